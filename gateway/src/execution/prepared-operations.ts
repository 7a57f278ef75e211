import { operationFromDocument, type Operation } from "@apollo/federation-internals";
import type { FetchNode, PlanNode, QueryPlan, SubscriptionNode } from "@apollo/query-planner";
import { Kind, OperationTypeNode, type DocumentNode, type FragmentDefinitionNode, type GraphQLSchema, type OperationDefinitionNode } from "graphql";
import { LRUCache } from "lru-cache";
import { operationHash, type OperationHash } from "@kombify/service-core/tenant-context";
import { MAX_REUSED_OPERATION_CHARS, MAX_REUSED_OPERATIONS_CHARS } from "../operation-limits.js";
import type { SupergraphPlanner } from "../federation/supergraph-planner.js";
import { ResultShape } from "./result-shape.js";

/** The operation a request runs, its fragments, and the schema they are read against. */
export interface OperationParts {
  schema: GraphQLSchema;
  operation: OperationDefinitionNode;
  fragments: FragmentDefinitionNode[];
}

/** What a fetch of a plan needs at every run, worked out once per operation. */
export interface PreparedFetch {
  node: FetchNode;
  /** `{"query":…,"operationName":…` : the body up to its variables. */
  bodyPrefix: string;
  hash: OperationHash;
  /** Only queries' and subscription events' fetches are shared with identical fetches in flight (not a mutation's reads). */
  shareable: boolean;
}

/** An operation ready to run: its plan, its fetches' bodies and hashes, and what shapes its result. */
export interface PreparedOperation {
  plan: QueryPlan;
  /** federation-internals' form of the operation: what conditions in the plan are evaluated against. */
  operation: Operation;
  /** What the client's result is shaped by, compiled from the operation. */
  shape: ResultShape;
  /** graphql-js' form: variable definitions (coercion, introspection). */
  context: OperationParts;
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
    return prepareOperation(this.supergraph, document, operationName, operation, this.supergraph.planner.buildQueryPlan(operation));
  }
}

/** Everything per operation that running `plan` for it needs; shared by queries, mutations and subscription events. */
export function prepareOperation(supergraph: SupergraphPlanner, document: DocumentNode, operationName: string | undefined, operation: Operation, plan: QueryPlan): PreparedOperation {
  const context = operationParts(supergraph.apiGraphQLSchema, document, operationName);
  // A mutation's later fetches are queries, but they read what it just wrote: one started before it by another
  // request of the same caller could answer from before the write.
  const readOnly = context.operation.operation !== OperationTypeNode.MUTATION;
  const fetches = new Map<FetchNode, PreparedFetch>();
  const operationsBySubgraph = new Map<string, OperationHash[]>();
  for (const node of fetchNodesOf(plan.node)) {
    const hash = operationHash(node.operation);
    fetches.set(node, {
      node,
      hash,
      bodyPrefix: `{"query":${JSON.stringify(node.operation)}${node.operationName ? `,"operationName":${JSON.stringify(node.operationName)}` : ""}`,
      shareable: readOnly && node.operationKind === "query",
    });
    const hashes = operationsBySubgraph.get(node.serviceName) ?? [];
    if (!hashes.includes(hash)) hashes.push(hash);
    operationsBySubgraph.set(node.serviceName, hashes);
  }
  const shape = new ResultShape(supergraph.apiGraphQLSchema, context.operation, context.fragments);
  return { plan, operation, shape, context, fetches, operationsBySubgraph };
}

/** The named operation (or the only one) of a validated document, and its fragments. */
function operationParts(schema: GraphQLSchema, document: DocumentNode, operationName: string | undefined): OperationParts {
  const operations = document.definitions.filter((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName ? operations.find((candidate) => candidate.name?.value === operationName) : operations.length === 1 ? operations[0] : undefined;
  if (!operation) throw new Error(operationName ? `Unknown operation named "${operationName}".` : "Must provide operation name if query contains multiple operations.");
  const fragments = document.definitions.filter((definition): definition is FragmentDefinitionNode => definition.kind === Kind.FRAGMENT_DEFINITION);
  return { schema, operation, fragments };
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
