import { operationFromDocument, Supergraph } from "@apollo/federation-internals";
import { QueryPlanner, type PlanNode, type SubscriptionNode } from "@apollo/query-planner";
import { parse } from "graphql";

/** The subgraphs @apollo/query-planner fetches from for `query` over `supergraphSdl`, in plan order (`Sequence`, `Parallel` flattened). */
export function plannedFetches(supergraphSdl: string, query: string, operationName?: string): string[] {
  const supergraph = Supergraph.build(supergraphSdl);
  const plan = new QueryPlanner(supergraph).buildQueryPlan(operationFromDocument(supergraph.apiSchema(), parse(query), { operationName }));
  const fetches: string[] = [];
  const walk = (node: PlanNode | SubscriptionNode | undefined): void => {
    if (!node) return;
    if (node.kind === "Fetch") fetches.push(node.serviceName);
    else if (node.kind === "Flatten") walk(node.node);
    else if (node.kind === "Sequence" || node.kind === "Parallel") node.nodes.forEach(walk);
    else if (node.kind === "Defer") {
      walk(node.primary.node);
      node.deferred.forEach((deferred) => walk(deferred.node));
    } else if (node.kind === "Condition") {
      walk(node.ifClause);
      walk(node.elseClause);
    } else if (node.kind === "Subscription") {
      walk(node.primary);
      walk(node.rest);
    }
  };
  walk(plan.node);
  return fetches;
}
