import type { GatewayExecutor, GatewayGraphQLRequestContext, GatewayInterface, GatewaySchemaLoadOrUpdateCallback } from "@apollo/server-gateway-interface";
import { getVariableValues, type VariableDefinitionNode } from "graphql";
import type { Caller } from "@kombify/service-core/auth";
import type { TenantContextSigner } from "@kombify/service-core/tenant-context";
import type { GatewayContext } from "../gateway-context.js";
import type { SupergraphPlanner } from "../federation/supergraph-planner.js";
import { signTenantContext } from "../federation/context-signing.js";
import type { FetchOptions, SubgraphFetches } from "../telemetry/subgraph-fetches.js";
import { PreparedOperations, type PreparedFetch, type PreparedOperation } from "./prepared-operations.js";
import { runPlan } from "./plan-executor.js";
import { parseAnswer, SubgraphClient } from "./subgraph-client.js";

export interface FederatedExecutorOptions {
  supergraph: SupergraphPlanner;
  supergraphSdl: string;
  /** Every subgraph's URL, by its name in the supergraph. */
  subgraphUrls: Record<string, string>;
  signer: TenantContextSigner;
  timeoutMs: number;
  /** Keep-alive connections per subgraph. */
  connectionsPerSubgraph: number;
  fetches?: SubgraphFetches;
  /** With tracing on, each fetch's context carries its own span's traceparent, so it is signed per fetch. */
  tracing: boolean;
}

/**
 * Who may share one in-flight subgraph fetch: the same caller (user, tenant, plan, roles), or any anonymous caller.
 * Per user, not per tenant: a query's fields may depend on who asks (`me`), unlike a subscription group's.
 */
export function fetchAudience(caller: Caller): string {
  if (caller.kind !== "user") return "anonymous";
  return JSON.stringify([caller.userId, caller.orgId, caller.tenant?.id ?? null, caller.tenant?.plan ?? null, [...caller.roles].sort()]);
}

/**
 * Apollo Server's gateway: it parses, validates and runs the plugins as for any schema; execution is ours. Each
 * operation is prepared once (plan, fetch bodies, operation hashes); each request then runs the plan through a
 * keep-alive pool per subgraph with one signed context per subgraph (covering every operation the plan sends
 * it), shares identical query fetches in flight within one audience, and shapes the merged result once.
 */
export class FederatedExecutor implements GatewayInterface {
  readonly clients: ReadonlyMap<string, SubgraphClient>;
  readonly prepared: PreparedOperations;
  private readonly listeners = new Set<GatewaySchemaLoadOrUpdateCallback>();

  constructor(private readonly options: FederatedExecutorOptions) {
    this.prepared = new PreparedOperations(options.supergraph);
    this.clients = new Map(
      Object.entries(options.subgraphUrls).map(([name, url]) => [
        name,
        new SubgraphClient(name, url, { timeoutMs: options.timeoutMs, connections: options.connectionsPerSubgraph, fetches: options.fetches }),
      ]),
    );
  }

  onSchemaLoadOrUpdate(callback: GatewaySchemaLoadOrUpdateCallback): () => void {
    this.listeners.add(callback);
    return () => this.listeners.delete(callback);
  }

  async load(): Promise<{ executor: GatewayExecutor }> {
    for (const listener of this.listeners) listener({ apiSchema: this.options.supergraph.apiGraphQLSchema, coreSupergraphSdl: this.options.supergraphSdl });
    return { executor: (requestContext) => this.execute(requestContext as GatewayGraphQLRequestContext<GatewayContext>) };
  }

  async stop(): Promise<void> {
    await Promise.all([...this.clients.values()].map((client) => client.close()));
  }

  private async execute(requestContext: GatewayGraphQLRequestContext<GatewayContext>) {
    const { request, document, context } = requestContext;
    const prepared = this.prepared.prepare(document, requestContext.source ?? request.query ?? "", request.operationName ?? undefined);
    const variables = request.variables ?? {};
    const variableErrors = invalidVariables(prepared, variables);
    if (variableErrors) return { errors: variableErrors };
    const policy = requestContext.overallCachePolicy;
    const audience = fetchAudience(context.caller);
    const signedContext = this.contextSigner(prepared, context);
    return runPlan({
      prepared,
      variables,
      context,
      supergraphSchema: this.options.supergraph.supergraphSchema,
      fetcher: async (fetch, body, telemetry) => {
        const client = this.clients.get(fetch.node.serviceName);
        if (!client) throw new Error(`Couldn't find service with name "${fetch.node.serviceName}"`);
        const answer = await client.send({
          body,
          audience: fetch.shareable ? audience : null,
          requestId: context.requestId,
          signedContext: () => signedContext(fetch, telemetry),
          telemetry,
        });
        return { response: parseAnswer(client.name, answer.text), cacheControl: answer.cacheControl };
      },
      onCacheControl: policy ? (header) => policy.restrict(cacheHint(header)) : undefined,
    });
  }

  /** One signed context per subgraph for this request, made when its first fetch goes out. */
  private contextSigner(prepared: PreparedOperation, context: GatewayContext): (fetch: PreparedFetch, telemetry: FetchOptions) => Promise<string> {
    const { signer, tracing, fetches } = this.options;
    if (tracing) return (fetch, telemetry) => signTenantContext(signer, context, fetch.node.serviceName, fetch.hash, fetches?.traceparent(telemetry));
    const signed = new Map<string, Promise<string>>();
    return (fetch) => {
      const subgraph = fetch.node.serviceName;
      let token = signed.get(subgraph);
      if (!token) signed.set(subgraph, (token = signer.sign(context.caller, context.requestId, subgraph, prepared.operationsBySubgraph.get(subgraph)!, undefined, context.clientAddress)));
      return token;
    };
  }
}

/** Variables the operation's definitions refuse (as @apollo/gateway checks them before running a plan). */
function invalidVariables(prepared: PreparedOperation, variables: Record<string, unknown>) {
  const definitions = prepared.context.operation.variableDefinitions as VariableDefinitionNode[] | undefined;
  if (!definitions || definitions.length === 0) return undefined;
  const { errors } = getVariableValues(prepared.context.schema, definitions, variables);
  return errors && errors.length > 0 ? errors : undefined;
}

/** A subgraph's Cache-Control as a hint for the overall policy: no max-age means not cacheable (as @apollo/gateway). */
function cacheHint(header: string | undefined): { maxAge: number; scope?: "PUBLIC" | "PRIVATE" } {
  if (!header) return { maxAge: 0 };
  const directives = header.toLowerCase().split(",").map((directive) => directive.trim());
  const maxAge = directives.find((directive) => directive.startsWith("max-age="))?.slice("max-age=".length);
  return {
    maxAge: maxAge && /^[0-9]+$/.test(maxAge) ? Number(maxAge) : 0,
    ...(directives.includes("private") ? { scope: "PRIVATE" as const } : directives.includes("public") ? { scope: "PUBLIC" as const } : {}),
  };
}
