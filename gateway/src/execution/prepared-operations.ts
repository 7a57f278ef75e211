import { buildOperationContext } from "@apollo/gateway";
import type { OperationContext } from "@apollo/gateway/dist/operationContext.js";
import { operationFromDocument, type Operation } from "@apollo/federation-internals";
import type { FetchNode, PlanNode, QueryPlan, SubscriptionNode } from "@apollo/query-planner";
import type { DocumentNode } from "graphql";
import { LRUCache } from "lru-cache";
import { operationHash, type OperationHash } from "@kombify/service-core/tenant-context";
import { MAX_REUSED_OPERATION_CHARS, MAX_REUSED_OPERATIONS_CHARS } from "../operation-limits.js";
import type { SupergraphPlanner } from "../federation/supergraph-planner.js";

/** What a fetch of a plan needs at every run, worked out once per operation. */
export interface PreparedFetch {
  node: FetchNode;
  /** `{"query":…,"operationName":…` : the body up to its variables. */
  bodyPrefix: string;
  hash: OperationHash;
  /** Only queries are shared with identical fetches of other requests in flight. */
  shareable: boolean;
}

/** An operation ready to run: its plan, its fetches' bodies and hashes, and what shapes its result. */
export interface PreparedOperation {
  plan: QueryPlan;
  /** federation-internals' form of the operation: what the result is shaped by. */
  operation: Operation;
  /** graphql-js' form: variable definitions (coercion, introspection). */
  context: OperationContext;
  fetches: Map<FetchNode, PreparedFetch>;
  /** Per subgraph, the hashes of every operation the plan sends it: one signed context covers them all. */
  operationsBySubgraph: Map<string, OperationHash[]>;
}

/**
 * Plans and everything else that is per operation rather than per request, kept by operation text and name
 * (by size, least recently used first; a long text is prepared for each use), and found by document object
 * while Apollo Server's document cache hands out the same document for the same text.
 */
export class PreparedOperations {
  private readonly byText = new LRUCache<string, PreparedOperation>({
    maxSize: MAX_REUSED_OPERATIONS_CHARS,
    maxEntrySize: MAX_REUSED_OPERATION_CHARS,
    sizeCalculation: (_prepared, key) => key.length,
  });
  private readonly byDocument = new WeakMap<DocumentNode, Map<string, PreparedOperation>>();

  constructor(private readonly supergraph: SupergraphPlanner) {}

  get size(): number {
    return this.byText.size;
  }

  prepare(document: DocumentNode, source: string, operationName: string | undefined): PreparedOperation {
    const name = operationName ?? "";
    const known = this.byDocument.get(document)?.get(name);
    if (known) return known;
    const key = `${name}\n${source}`;
    const prepared = this.byText.get(key) ?? this.prepareAnew(document, operationName);
    this.byText.set(key, prepared);
    const byName = this.byDocument.get(document) ?? new Map<string, PreparedOperation>();
    this.byDocument.set(document, byName.set(name, prepared));
    return prepared;
  }

  private prepareAnew(document: DocumentNode, operationName: string | undefined): PreparedOperation {
    const operation = operationFromDocument(this.supergraph.apiSchema, document, { operationName });
    const plan = this.supergraph.planner.buildQueryPlan(operation);
    const fetches = new Map<FetchNode, PreparedFetch>();
    const operationsBySubgraph = new Map<string, OperationHash[]>();
    for (const node of fetchNodesOf(plan.node)) {
      const hash = operationHash(node.operation);
      fetches.set(node, {
        node,
        hash,
        bodyPrefix: `{"query":${JSON.stringify(node.operation)}${node.operationName ? `,"operationName":${JSON.stringify(node.operationName)}` : ""}`,
        shareable: node.operationKind === "query",
      });
      const hashes = operationsBySubgraph.get(node.serviceName) ?? [];
      if (!hashes.includes(hash)) hashes.push(hash);
      operationsBySubgraph.set(node.serviceName, hashes);
    }
    const context = buildOperationContext({ schema: this.supergraph.apiGraphQLSchema, operationDocument: document, operationName });
    return { plan, operation, context, fetches, operationsBySubgraph };
  }
}

function* fetchNodesOf(node: PlanNode | SubscriptionNode | undefined): Generator<FetchNode> {
  if (!node) return;
  switch (node.kind) {
    case "Fetch":
      yield node;
      return;
    case "Sequence":
    case "Parallel":
      for (const child of node.nodes) yield* fetchNodesOf(child);
      return;
    case "Flatten":
      yield* fetchNodesOf(node.node);
      return;
    case "Condition":
      yield* fetchNodesOf(node.ifClause);
      yield* fetchNodesOf(node.elseClause);
      return;
    case "Defer":
      yield* fetchNodesOf(node.primary.node);
      for (const deferred of node.deferred) yield* fetchNodesOf(deferred.node);
      return;
    case "Subscription":
      yield node.primary;
      yield* fetchNodesOf(node.rest);
      return;
  }
}
