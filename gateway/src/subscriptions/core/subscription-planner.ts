import { operationFromDocument, type Schema } from "@apollo/federation-internals";
import type { FetchNode, PlanNode, QueryPlan, QueryPlanner } from "@apollo/query-planner";
import { parse, print, type DocumentNode, type GraphQLSchema } from "graphql";
import { LRUCache } from "lru-cache";
import { MAX_REUSED_OPERATION_CHARS, MAX_REUSED_OPERATIONS_CHARS } from "../../operation-limits.js";
import type { SupergraphPlanner } from "../../federation/supergraph-planner.js";
import { prepareOperation, type PreparedOperation } from "../../execution/prepared-operations.js";

/** The service name under which each event is handed to the plan's run, as if the primary fetch had returned it. */
export const EVENT_SOURCE = "__subscription_event__";

/** A subscription's plan: the owning subgraph's stream (primary) and the fetches for fields owned elsewhere (rest). */
export interface SubscriptionPlan {
  /** The operation as text (printed without the client's padding). */
  text: string;
  primary: FetchNode;
  rest: PlanNode | undefined;
  /** What resolves one event: the primary fetch, answered by EVENT_SOURCE with the event, then `rest`. */
  eventPlan: QueryPlan;
  /** The event plan ready to run (fetch bodies, hashes, the result's shape). */
  prepared: PreparedOperation;
  /** The primary fetch's variables, picked from the client's. */
  primaryVariables(variables: Record<string, unknown>): Record<string, unknown>;
}

/**
 * Plans subscriptions against the same supergraph the gateway serves, with @apollo/query-planner, which
 * plans them (a Subscription node) even though @apollo/gateway cannot execute them. Plans are kept by operation
 * text and name (by size, least recently used first; a long text is planned each time), and found by document
 * object while that document lives.
 */
export class SubscriptionPlanner {
  readonly supergraphSchema: GraphQLSchema;
  readonly apiSchema: Schema;
  readonly apiGraphQLSchema: GraphQLSchema;
  private readonly planner: QueryPlanner;
  private readonly cache = new LRUCache<string, SubscriptionPlan>({
    maxSize: MAX_REUSED_OPERATIONS_CHARS,
    maxEntrySize: MAX_REUSED_OPERATION_CHARS,
    sizeCalculation: (_plan, key) => key.length,
  });
  /** Plans by document object: the gateway's documents are shared per operation text (OperationDocuments), so this skips printing. */
  private readonly byDocument = new WeakMap<DocumentNode, Map<string, SubscriptionPlan>>();

  constructor(private readonly supergraph: SupergraphPlanner) {
    this.supergraphSchema = supergraph.supergraphSchema;
    this.apiSchema = supergraph.apiSchema;
    this.apiGraphQLSchema = supergraph.apiGraphQLSchema;
    this.planner = supergraph.planner;
  }

  /** A plan already made for this operation, if one is kept: costs a lookup, never planning. */
  kept(document: DocumentNode, operationName: string | undefined): SubscriptionPlan | undefined {
    const known = this.byDocument.get(document)?.get(operationName ?? "");
    if (known) return known;
    const cached = this.cache.get(`${operationName ?? ""}\n${print(document)}`);
    if (cached) this.remember(document, operationName, cached);
    return cached;
  }

  plan(document: DocumentNode, operationName: string | undefined): SubscriptionPlan {
    const known = this.byDocument.get(document)?.get(operationName ?? "");
    if (known) return known;
    return this.remember(document, operationName, this.planText(document, operationName));
  }

  private remember(document: DocumentNode, operationName: string | undefined, plan: SubscriptionPlan): SubscriptionPlan {
    const plans = this.byDocument.get(document) ?? new Map<string, SubscriptionPlan>();
    this.byDocument.set(document, plans.set(operationName ?? "", plan));
    return plan;
  }

  private planText(document: DocumentNode, operationName: string | undefined): SubscriptionPlan {
    const text = print(document);
    const key = `${operationName ?? ""}\n${text}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    // Planned from the printed text, not the client's document: a kept plan holds its document, and the
    // client's one points (through its locations) at the whole text as sent, padding included.
    const planned = parse(text, { noLocation: true });
    const operation = operationFromDocument(this.apiSchema, planned, { operationName });
    const queryPlan: QueryPlan = this.planner.buildQueryPlan(operation);
    if (queryPlan.node?.kind !== "Subscription") throw new Error("Not a subscription operation.");
    const { primary, rest } = queryPlan.node;
    const eventFetch: FetchNode = { ...primary, serviceName: EVENT_SOURCE };
    const eventPlan: QueryPlan = { kind: "QueryPlan", node: rest ? { kind: "Sequence", nodes: [eventFetch, rest] } : eventFetch };
    const plan: SubscriptionPlan = {
      text,
      primary,
      rest,
      eventPlan,
      prepared: prepareOperation(this.supergraph, planned, operationName, operation, eventPlan),
      primaryVariables: (variables) =>
        Object.fromEntries((primary.variableUsages ?? []).filter((name) => name in variables).map((name) => [name, variables[name]])),
    };
    this.cache.set(key, plan);
    return plan;
  }
}
