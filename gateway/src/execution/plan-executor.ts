import { evaluateCondition, getResponseName, type FetchNode, type PlanNode, type QueryPlanFieldNode, type QueryPlanSelectionNode, type ResponsePath } from "@apollo/query-planner";
import { errorCodeDef, ERRORS } from "@apollo/federation-internals";
import { applyRewrites, isObjectOfType } from "@apollo/gateway/dist/dataRewrites.js";
import { deepMerge } from "@apollo/gateway/dist/utilities/deepMerge.js";
import { executeSync, GraphQLError, Kind, OperationTypeNode, visit, type DocumentNode, type FieldNode, type GraphQLErrorOptions, type GraphQLFormattedError, type GraphQLSchema, type VariableDefinitionNode } from "graphql";
import type { GatewayContext } from "../gateway-context.js";
import type { PreparedFetch, PreparedOperation } from "./prepared-operations.js";
import type { FetchOptions } from "../telemetry/subgraph-fetches.js";

type ResultMap = Record<string, any>;

interface Cursor {
  path: ResponsePath;
  data: ResultMap | ResultMap[];
  fullResult: ResultMap;
}

/** A subgraph's answer to one fetch: its GraphQL response, and its Cache-Control. */
export interface FetchedResponse {
  response: { data?: ResultMap | null; errors?: GraphQLFormattedError[] };
  cacheControl?: string;
}

/** Sends one fetch of the plan (its JSON body already built) and answers with the response, parsed for this run alone. */
export type PlanFetcher = (fetch: PreparedFetch, body: string, telemetry: FetchOptions) => Promise<FetchedResponse>;

/** What a run needs: the prepared operation, the request's variables and context, and how its fetches are sent. */
export interface PlanRun {
  prepared: PreparedOperation;
  variables: Record<string, unknown>;
  context: GatewayContext;
  supergraphSchema: GraphQLSchema;
  fetcher: PlanFetcher;
  /** A subgraph's Cache-Control, for the response's overall cache policy. */
  onCacheControl?: (cacheControl: string | undefined) => void;
}

export interface PlanResult {
  data?: Record<string, unknown> | null;
  errors?: GraphQLError[];
  extensions?: Record<string, unknown>;
}

/**
 * Runs a query plan: the fetches in the plan's order (Sequence, Parallel, Flatten, Condition), each sent through
 * its subgraph's client and merged into one result tree, which is then shaped to the operation once. It follows
 * @apollo/gateway's executeQueryPlan (same merging, entity representations, rewrites, error paths and codes, and
 * result shaping: partial data when a subgraph fails), without what a self-hosted gateway never uses per fetch
 * (Studio trace trees, WHATWG Request/Headers objects, building the operation again for every request).
 */
export async function runPlan(run: PlanRun): Promise<PlanResult> {
  const errors: GraphQLError[] = [];
  const data: ResultMap = Object.create(null);
  const node = run.prepared.plan.node;
  if (node?.kind === "Subscription" || node?.kind === "Defer") {
    return { errors: [new GraphQLError(`${node.kind === "Defer" ? "@defer" : "Subscriptions"} ${node.kind === "Defer" ? "is" : "are"} not served over this transport.`, { extensions: { code: "BAD_REQUEST" } })] };
  }
  try {
    if (node) await executeNode(run, errors, node, { path: [], data, fullResult: data });
  } catch (error) {
    // What the fetches brought is still shaped: partial data beside the error, never a failed request.
    errors.push(error instanceof GraphQLError ? error : new GraphQLError(error instanceof Error ? error.message : String(error)));
  }
  try {
    const { context } = run.prepared;
    const shaped = run.prepared.shape.shape(data, run.variables, (field) => introspect(context.schema, field, context.operation.variableDefinitions, run.variables));
    // As @apollo/gateway: a shaping error after fetch errors repeats them; alone, it goes in extensions.
    if (errors.length === 0 && shaped.errors.length > 0) return { data: shaped.data, extensions: { valueCompletion: shaped.errors } };
    return errors.length === 0 ? { data: shaped.data } : { data: shaped.data, errors };
  } catch (error) {
    return { errors: [error instanceof GraphQLError ? error : new GraphQLError(error instanceof Error ? error.message : "Unexpected error while shaping the result.")] };
  }
}

async function executeNode(run: PlanRun, errors: GraphQLError[], node: PlanNode, cursor: Cursor | undefined): Promise<void> {
  if (!cursor) return;
  switch (node.kind) {
    case "Sequence":
      for (const child of node.nodes) await executeNode(run, errors, child, cursor);
      return;
    case "Parallel":
      await Promise.all(node.nodes.map((child) => executeNode(run, errors, child, cursor)));
      return;
    case "Flatten":
      return executeNode(run, errors, node.node, moveIntoCursor(cursor, node.path));
    case "Fetch":
      try {
        await executeFetch(run, errors, node, cursor);
      } catch (error) {
        errors.push(error instanceof GraphQLError ? error : new GraphQLError(error instanceof Error ? error.message : String(error)));
      }
      return;
    case "Condition": {
      const branch = evaluateCondition(node, run.prepared.operation.variableDefinitions, run.variables) ? node.ifClause : node.elseClause;
      if (branch) await executeNode(run, errors, branch, cursor);
      return;
    }
    default:
      throw new Error(`Plan node ${node.kind} cannot be executed here.`);
  }
}

async function executeFetch(run: PlanRun, errors: GraphQLError[], fetch: FetchNode, cursor: Cursor): Promise<void> {
  const entities: ResultMap[] = Array.isArray(cursor.data) ? cursor.data.filter((entity) => entity !== null && entity !== undefined) : [cursor.data];
  if (entities.length === 0) return;
  const variables: Record<string, unknown> = {};
  for (const name of fetch.variableUsages ?? []) {
    if (Object.hasOwn(run.variables, name) && run.variables[name] !== undefined) variables[name] = run.variables[name];
  }
  if (!fetch.requires) {
    const received = await send(run, errors, fetch, cursor, variables);
    if (received) applyRewrites(run.supergraphSchema, fetch.outputRewrites, received);
    for (const entity of entities) deepMerge(entity, received);
    return;
  }
  const representations: ResultMap[] = [];
  const representationToEntity: number[] = [];
  entities.forEach((entity, index) => {
    const representation = selectFrom(run.supergraphSchema, entity, fetch.requires!);
    if (representation && representation.__typename) {
      applyRewrites(run.supergraphSchema, fetch.inputRewrites, representation);
      representations.push(representation);
      representationToEntity.push(index);
    }
  });
  if (representations.length === 0) return;
  if ("representations" in variables) throw new Error(`Variables cannot contain key "representations"`);
  variables.representations = representations;
  const received = await send(run, errors, fetch, cursor, variables, representationToEntity);
  if (!received) return;
  const receivedEntities = received._entities;
  if (!Array.isArray(receivedEntities)) throw new Error(`Expected "data._entities" in response to be an array`);
  if (receivedEntities.length !== representations.length) throw new Error(`Expected "data._entities" to contain ${representations.length} elements`);
  for (let i = 0; i < receivedEntities.length; i++) {
    const receivedEntity = receivedEntities[i];
    const existing = entities[representationToEntity[i]!]!;
    if (receivedEntity && !receivedEntity.__typename) receivedEntity.__typename = existing.__typename;
    applyRewrites(run.supergraphSchema, fetch.outputRewrites, receivedEntity);
    deepMerge(existing, receivedEntity);
  }
}

/** Sends one fetch; its errors join the result's (with paths into the client's result), its data is returned. */
async function send(
  run: PlanRun,
  errors: GraphQLError[],
  fetch: FetchNode,
  cursor: Cursor,
  variables: Record<string, unknown>,
  representationToEntity?: readonly number[],
): Promise<ResultMap | null | undefined> {
  const prepared = run.prepared.fetches.get(fetch);
  if (!prepared) throw new Error(`Couldn't find service with name "${fetch.serviceName}"`);
  const telemetry: FetchOptions = { context: run.context, request: { operationName: fetch.operationName } };
  let fetched: FetchedResponse;
  try {
    fetched = await run.fetcher(prepared, `${prepared.bodyPrefix},"variables":${JSON.stringify(variables)}}`, telemetry);
  } catch (error) {
    run.context.log.warn({ subgraph: fetch.serviceName, err: (error as Error).cause ?? error }, "subgraph unavailable");
    throw error;
  }
  run.onCacheControl?.(fetched.cacheControl);
  const response = fetched.response;
  if (response.errors) {
    const errorPath = lazyErrorPaths(fetch, cursor, representationToEntity);
    for (const error of response.errors) errors.push(downstreamError(error, fetch.serviceName, errorPath));
  }
  return response.data;
}

/** A fetch's `requires` selection picked out of an entity: the representation sent to `_entities`. */
function selectFrom(schema: GraphQLSchema, source: ResultMap | null, selections: QueryPlanSelectionNode[]): ResultMap | null {
  if (source === null) return null;
  const result: ResultMap = Object.create(null);
  for (const selection of selections) {
    if (selection.kind === Kind.FIELD) {
      const responseName = getResponseName(selection as QueryPlanFieldNode);
      const nested = (selection as QueryPlanFieldNode).selections;
      const value = Object.hasOwn(source, responseName) ? source[responseName] : undefined;
      // A missing input means the entity could not be fetched whole (its error is already reported): skip it.
      if (value === undefined) return null;
      if (Array.isArray(value)) result[responseName] = value.map((item) => (nested ? selectFrom(schema, item, nested) : item));
      else result[responseName] = nested ? selectFrom(schema, value, nested) : value;
    } else if (selection.typeCondition && isObjectOfType(schema, source, selection.typeCondition)) {
      deepMerge(result, selectFrom(schema, source, selection.selections));
    }
  }
  return result;
}

function moveIntoCursor(cursor: Cursor, path: ResponsePath): Cursor | undefined {
  let data: any;
  if (path.includes("@")) {
    data = [];
    collectAtPath(cursor.data, path, 0, data);
  } else {
    data = valueAtPath(cursor.data, path);
  }
  return data ? { path: cursor.path.concat(path), data, fullResult: cursor.fullResult } : undefined;
}

/** The value at a path without lists (`["a", "b"]`). */
function valueAtPath(value: any, path: ResponsePath): any {
  for (const key of path) {
    if (value === undefined || value === null) return value;
    value = Object.hasOwn(value, key as string) ? value[key as string] : undefined;
  }
  return value;
}

/** Every value a path through lists (`["a", "@", "b"]`) reaches, flattened into `into` in order. */
function collectAtPath(value: any, path: ResponsePath, from: number, into: unknown[]): void {
  if (value === undefined || value === null) return;
  if (from === path.length) {
    if (Array.isArray(value)) for (const element of value) into.push(element);
    else into.push(value);
    return;
  }
  const key = path[from]!;
  if (key === "@") {
    // A subgraph's object where the plan expects a list is no entity to fetch for (shaping reports it as invalid).
    if (Array.isArray(value)) for (const element of value) collectAtPath(element, path, from + 1, into);
    return;
  }
  collectAtPath(Object.hasOwn(value, key as string) ? value[key as string] : undefined, path, from + 1, into);
}

type ErrorPaths = (path: GraphQLErrorOptions["path"]) => GraphQLErrorOptions["path"];

/**
 * An error's path in the subgraph's answer, as a path in the client's result (entity indexes resolved lazily).
 * `_entities` is indexed by representation, and entities that needed no fetch here (another type behind the
 * same list) sent none: the representation's entity is where the error belongs.
 */
function lazyErrorPaths(fetch: FetchNode, cursor: Cursor, representationToEntity?: readonly number[]): ErrorPaths {
  let hydrated: ResponsePath[] | undefined;
  return (errorPath) => {
    if (fetch.requires && typeof errorPath?.[1] === "number") {
      if (!hydrated) hydratePaths([], cursor.path, 0, cursor.fullResult, (hydrated = []));
      const entity = representationToEntity?.[errorPath[1]] ?? errorPath[1];
      return [...(hydrated[entity] ?? []), ...errorPath.slice(2)];
    }
    return errorPath ? [...cursor.path, ...errorPath] : undefined;
  };
}

/** Every concrete path (`["a", 0, "b", 1]`) a plan path (`["a", "@", "b", "@"]`) takes through the data, in order. */
function hydratePaths(parent: ResponsePath, path: ResponsePath, from: number, data: any, into: ResponsePath[]): void {
  if (data === null || data === undefined) return;
  if (from === path.length) {
    into.push([...parent]);
    return;
  }
  const head = path[from]!;
  if (head === "@" || Array.isArray(data)) {
    if (!Array.isArray(data)) return;
    (data as unknown[]).forEach((element, index) => {
      parent.push(index);
      hydratePaths(parent, path, head === "@" ? from + 1 : from, element, into);
      parent.pop();
    });
  } else if (Object.hasOwn(data, head as string)) {
    parent.push(head);
    hydratePaths(parent, path, from + 1, data[head as string], into);
    parent.pop();
  }
}

/** A subgraph's error as the client gets it: its own code kept, the subgraph named, the path in the client's result. */
function downstreamError(original: GraphQLFormattedError, serviceName: string, errorPath: ErrorPaths): GraphQLError {
  const message = original.message || `Error while fetching subquery from service "${serviceName}"`;
  const options: GraphQLErrorOptions = {
    originalError: original as Error,
    path: errorPath(original.path),
    extensions: { ...original.extensions, serviceName },
  };
  const known = errorCodeDef(original);
  if (!known && original.extensions?.code) return new GraphQLError(message, options);
  return (known ?? ERRORS.DOWNSTREAM_SERVICE_ERROR).err(message, options);
}

/** `__schema`/`__type` fields, answered from the API schema as graphql-js would. */
function introspect(schema: GraphQLSchema, field: FieldNode, variableDefinitions: readonly VariableDefinitionNode[] | undefined, variables: Record<string, unknown>): unknown {
  const used = new Set<string>();
  visit(field, { Variable: ({ name }) => void used.add(name.value) });
  const document: DocumentNode = {
    kind: Kind.DOCUMENT,
    definitions: [
      {
        kind: Kind.OPERATION_DEFINITION,
        operation: OperationTypeNode.QUERY,
        variableDefinitions: variableDefinitions?.filter((definition) => used.has(definition.variable.name.value)),
        selectionSet: { kind: Kind.SELECTION_SET, selections: [field] },
      },
    ],
  };
  const { data } = executeSync({ schema, document, rootValue: {}, variableValues: variables });
  return data?.[field.alias?.value ?? field.name.value];
}
