import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from "@apollo/gateway";
import type { GatewayGraphQLResponse } from "@apollo/server-gateway-interface";
import { errors } from "@kombify/service-core/errors";
import { REQUEST_ID_HEADER } from "@kombify/service-core/http";
import { operationHash, TENANT_CONTEXT_HEADER, type TenantContextSigner } from "@kombify/service-core/tenant-context";
import type { GatewayContext } from "../gateway-context.js";
import { signTenantContext } from "./context-signing.js";
import type { SubgraphFetches } from "../telemetry/subgraph-fetches.js";

/**
 * Sends each subgraph fetch with the request id and a tenant context signed for that subgraph and that exact
 * operation text alone (anonymous callers' too: it is what tells a subgraph the call came through the gateway).
 * Nothing of the client's own headers is forwarded, so a client's X-Tenant-ID never reaches a subgraph.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    readonly name: string,
    url: string,
    private readonly signer: TenantContextSigner,
    /** A subgraph answer taking longer than this is UNAVAILABLE, not a hung client. @default 15000 */
    timeoutMs = 15_000,
    /** Where each fetch's latency and errors are counted (and traced, with tracing on). */
    private readonly fetches?: SubgraphFetches,
  ) {
    super({ url, fetcher: (input, init) => fetch(input, { ...(init as RequestInit), signal: AbortSignal.timeout(timeoutMs) }) as never });
  }

  /**
   * Identical query fetches of one operation in flight at once, by the operation's context. The planner sends
   * one fetch per alias (`a: myTenant { stacks }`, `b: myTenant { stacks }`: the same text, the same
   * representations): they are answered by one subgraph request, as Apollo Router's and Hive Gateway's
   * deduplication do. Only while in flight, and only queries: nothing is remembered, and no write is shared.
   */
  private readonly inflight = new WeakMap<object, Map<string, Promise<GatewayGraphQLResponse>>>();

  override process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    const query = options.request.query;
    if (!query || !/^\s*(query\b|\{)/.test(query)) return this.processAlone(options);
    const key = `${query}\n${JSON.stringify(options.request.variables ?? {})}`;
    let shared = this.inflight.get(options.context);
    if (!shared) this.inflight.set(options.context, (shared = new Map()));
    const leader = shared.get(key);
    // Each follower gets its own copy: the executor merges fetched objects into the result in place.
    if (leader) return leader.then((response) => structuredClone(response));
    const fetched = this.processAlone(options).finally(() => shared.delete(key));
    shared.set(key, fetched);
    return fetched;
  }

  /** A subgraph that cannot be reached is UNAVAILABLE, named, so clients get partial data they can explain. */
  private async processAlone(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    const startedAt = this.fetches?.begin(this.name, options) ?? 0;
    try {
      const response = await super.process(options);
      this.fetches?.end(this.name, options, startedAt, response);
      return response;
    } catch (error) {
      this.fetches?.end(this.name, options, startedAt, "unavailable");
      const context = options.context as Partial<GatewayContext>;
      context.log?.warn({ subgraph: this.name, err: error }, "subgraph unavailable");
      throw errors.unavailable(`The ${this.name} service is unavailable; try again shortly.`);
    }
  }

  override async willSendRequest(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<void> {
    const { request, context } = options;
    if (!("caller" in context) || !context.caller || !request.query) return;
    request.http?.headers.set(REQUEST_ID_HEADER, context.requestId);
    // W3C trace context, with tracing on: inside the signed context, so the subgraph's operation span continues
    // this fetch's span and nobody else can place spans in the gateway's traces.
    const traceparent = this.fetches?.traceparent(options);
    request.http?.headers.set(TENANT_CONTEXT_HEADER, await signTenantContext(this.signer, context as GatewayContext, this.name, operationHash(request.query), traceparent));
  }
}
