import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import type { Logger } from "@kombify/service-core/logging";
import { ErrorCode, logUnexpectedErrors } from "@kombify/service-core/errors";
import { handleGraphQLHttp, REQUEST_TIMEOUTS, REQUEST_ID_HEADER, requestIdOf, sendGraphQLError, sendJson } from "@kombify/service-core/http";
import { importContextSigningKey, TenantContextSigner } from "@kombify/service-core/tenant-context";
import { createMetricsRegistry, metricsAsJson, OperationMetrics, operationTracing, sendPrometheus, Tracing } from "@kombify/service-core/observability";
import { listen } from "@kombify/service-core/server";
import { connectDatabase } from "@kombify/service-core/database";
import { Entitlements, PlanCatalog } from "@kombify/plan-catalog";
import { AccessTokenVerifier } from "./auth/access-token-verifier.js";
import { CallerAuthenticator } from "./auth/caller-authenticator.js";
import type { GatewayConfig } from "./config.js";
import type { GatewayContext } from "./gateway-context.js";
import { createGatewayErrorFormatter, isUnexpectedAtGateway } from "./http/gateway-error-formatter.js";
import { proxyDownload } from "./http/download-proxy.js";
import { PersistedDocuments } from "./http/persisted-documents.js";
import { createPlayground } from "./http/playground.js";
import { gatewayMetrics, registerSubscriptionMetrics } from "./http/gateway-metrics.js";
import { watchLiveHeap } from "./http/live-heap.js";
import { MAX_OPERATION_TOKENS } from "./operation-limits.js";
import { operationCeilingsRule } from "./operation-ceilings.js";
import { refuseNulInInput } from "./input-strings.js";
import { PLAN_TIERS } from "@kombify/service-core/auth";
import { DeclaredCosts, refuseCostlyOperations, type CostPolicy } from "./operation-cost.js";
import { subgraphReadiness } from "./http/readiness.js";
import { subgraphsOfSupergraph } from "./federation/supergraph-subgraphs.js";
import { tenantEnrolment } from "./tenancy/tenant-enrolment.js";
import { TENANT_DIRECTORY_CHANNELS, TenantResolver } from "./tenancy/tenant-resolver.js";
import { attachGraphQLWebSocket } from "./subscriptions/transport/gateway-websocket.js";
import { SubscriptionHub } from "./subscriptions/core/subscription-hub.js";
import { SubscriptionPlanner } from "./subscriptions/core/subscription-planner.js";
import { SupergraphPlanner } from "./federation/supergraph-planner.js";
import { FederatedExecutor } from "./execution/federated-executor.js";
import { UpstreamSubscriptions } from "./subscriptions/upstream/upstream-subscriptions.js";
import { SubgraphFetches } from "./telemetry/subgraph-fetches.js";
import { RateLimits } from "./rate-limits/rate-limits.js";
import { budgetAddress, ClientAddresses } from "./rate-limits/client-address.js";

export interface RunningGateway {
  url: string;
  /** The metrics listener's base URL (GET /metrics in Prometheus text format, GET /metrics.json), apart from the public port. */
  metricsUrl: string;
  /** Its series (prom-client's JSON) and its /metrics.json view: what a cluster worker hands its primary to sum. */
  readMetrics(): Promise<{ series: Awaited<ReturnType<typeof metricsAsJson>>; json: ReturnType<typeof gatewayMetrics> }>;
  stop(): Promise<void>;
}

export interface GatewayOptions {
  /** Whether this process serves /metrics itself: not in a cluster worker, whose primary serves them for all. @default true */
  metricsListener?: boolean;
}

/** The supergraph's front door: verifies the caller, resolves the tenant, plans and runs each operation. */
export async function startGateway(config: GatewayConfig, log: Logger, options: GatewayOptions = {}): Promise<RunningGateway> {
  const supergraphSdl = readFileSync(config.supergraphFile, "utf8");
  // The subgraphs are the supergraph's (join__graph), each at its SUBGRAPH_<NAME>_URL when set: any composed supergraph.
  const subgraphUrls = subgraphsOfSupergraph(supergraphSdl, config.subgraphUrlOverrides);
  const signer = new TenantContextSigner(await importContextSigningKey(config.contextSigningKey));
  // Prometheus series in this gateway's own registry; spans only with OTEL_EXPORTER_OTLP_ENDPOINT set.
  const registry = createMetricsRegistry();
  const operationMetrics = new OperationMetrics(registry);
  const tracing = config.tracing ? Tracing.start(config.tracing) : null;
  const fetches = new SubgraphFetches(registry, tracing);
  // One planner for queries, mutations and subscriptions; execution over HTTP is ours (FederatedExecutor).
  const supergraph = new SupergraphPlanner(supergraphSdl);
  const gateway = new FederatedExecutor({
    supergraph,
    supergraphSdl,
    subgraphUrls,
    signer,
    timeoutMs: config.subgraphTimeoutMs,
    connectionsPerSubgraph: config.subgraphConnections,
    fetches,
    tracing: Boolean(tracing),
  });
  const database = connectDatabase(config.databaseUrl, { max: 5 });
  const tenants = new TenantResolver(database.db, config.tenantCacheTtlMs);
  const entitlements = new Entitlements(PlanCatalog.load(config.plansFile));
  // One operation's cost: the caller's plan's ceiling (a caller with no tenant: the smallest plan's), within
  // OPERATION_MAX_COST for everyone, estimated with what the subgraphs declare (@cost, @listSize).
  const costPolicy: CostPolicy = {
    maxCost: config.operationCeilings.maxCost,
    assumedListSize: config.operationCeilings.assumedListSize,
    declared: DeclaredCosts.fromSupergraph(supergraphSdl),
    planCeiling: (caller) => entitlements.maxOperationCost(caller.kind === "user" && caller.tenant ? caller.tenant.plan : PLAN_TIERS[0]),
  };
  const formatError = createGatewayErrorFormatter(config.nodeEnv !== "production");
  const persistedDocuments = PersistedDocuments.load(config.persistedDocuments);
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    introspection: config.introspection,
    // "Did you mean …?" would hand out the schema's field names that introspection is off to keep.
    hideSchemaDetailsFromClientErrors: !config.introspection,
    includeStacktraceInErrorResponses: false,
    parseOptions: { maxTokens: MAX_OPERATION_TOKENS },
    validationRules: [operationCeilingsRule(config.operationCeilings)],
    formatError,
    persistedQueries: persistedDocuments.apolloPersistedQueries(),
    plugins: [
      operationMetrics.plugin<GatewayContext>(),
      ...(tracing ? [operationTracing<GatewayContext>(tracing)] : []),
      refuseNulInInput<GatewayContext>(),
      refuseCostlyOperations<GatewayContext>(costPolicy),
      // kombify's own: an organisation's first homelab launch makes its tenant, where a tenant subgraph exists.
      ...(subgraphUrls.tenant ? [tenantEnrolment({ tenantSubgraphUrl: subgraphUrls.tenant, signer, tenants, timeoutMs: config.subgraphTimeoutMs })] : []),
      logUnexpectedErrors<GatewayContext>(log, isUnexpectedAtGateway),
      // Apollo's own landing page loads from Apollo's CDN and Google Fonts: ours is the playground, or nothing.
      ApolloServerPluginLandingPageDisabled(),
    ],
  });
  await apollo.start();
  // Over HTTP with OPERATIONS_SAFELIST=true, unregistered documents are refused before Apollo parses them.
  const httpApollo = persistedDocuments.guardHttp(apollo);
  log.info({ documents: persistedDocuments.size, safelist: persistedDocuments.safelist }, "persisted documents loaded");

  const authenticator = new CallerAuthenticator(config.oidc ? new AccessTokenVerifier(config.oidc, log) : null, tenants, log);
  if (!config.oidc) log.warn("OIDC_ISSUER is not set: every caller is anonymous (development only)");
  // Requests per minute per tenant by plan, over HTTP and the socket; off (RATE_LIMIT_ENABLED=false): no headers either.
  // Who the client is (TRUSTED_PROXIES' X-Forwarded-For believed), whether or not requests per minute are counted.
  const clientAddresses = new ClientAddresses(config.rateLimits.trustedProxies);
  const rateLimits = config.rateLimits.enabled
    ? RateLimits.start({ settings: config.rateLimits, entitlements, registry, log, onRefused: (code) => operationMetrics.refused(code) })
    : null;

  const liveHeap = watchLiveHeap();
  const playground = config.playground ? await createPlayground() : null;

  async function route(req: IncomingMessage, res: ServerResponse, requestId: string, requestLog: Logger): Promise<void> {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const idHeader = { [REQUEST_ID_HEADER]: requestId };
    if (path === "/health" && req.method === "GET") return sendJson(res, 200, { status: "ok", service: "gateway" }, idHeader);
    if (path === "/ready" && req.method === "GET") {
      const readiness = await subgraphReadiness(subgraphUrls);
      return sendJson(res, readiness.ready ? 200 : 503, { service: "gateway", ...readiness }, idHeader);
    }
    if (path === "/downloads" && subgraphUrls.stackkit) return proxyDownload(req, res, { stackkitUrl: subgraphUrls.stackkit, timeoutMs: config.subgraphTimeoutMs, headers: idHeader, log: requestLog });
    if (playground?.serves(req, path)) return playground.serve(req, res, idHeader);
    if (path !== "/graphql") return sendJson(res, 404, { error: "NOT_FOUND", message: `No route for ${req.method} ${path}; the graph is at /graphql.` }, idHeader);
    const authentication = await authenticator.fromRequest(req);
    if (!authentication.ok) {
      requestLog.info({ reason: authentication.message }, "could not authenticate the caller");
      if (authentication.code === "UNAVAILABLE") return sendGraphQLError(res, 503, ErrorCode.UNAVAILABLE, authentication.message, idHeader);
      if (authentication.code === "BAD_USER_INPUT") return sendGraphQLError(res, 400, ErrorCode.BAD_USER_INPUT, authentication.message, idHeader);
      return sendGraphQLError(res, 401, ErrorCode.UNAUTHENTICATED, authentication.message, { ...idHeader, "www-authenticate": 'Bearer error="invalid_token"' });
    }
    // Subgraphs that limit per client (tenant creation) learn its address from the signed context.
    const context: GatewayContext = { caller: authentication.caller, requestId, log: requestLog, clientAddress: budgetAddress(clientAddresses.of(req)) };
    // Counted before the operation runs; beyond the budget, rateLimits answered 429 itself.
    const headers = rateLimits ? await rateLimits.http(authentication.caller, req, res, idHeader) : idHeader;
    if (!headers) return;
    return handleGraphQLHttp(httpApollo, req, res, async () => context, headers);
  }

  const server = createServer(REQUEST_TIMEOUTS, (req, res) => {
    const requestId = requestIdOf(req);
    const requestLog = log.child({ requestId });
    route(req, res, requestId, requestLog).catch((error) => {
      requestLog.error({ err: error }, "request failed");
      if (!res.headersSent) sendGraphQLError(res, 500, ErrorCode.INTERNAL, "Internal error. Quote the request id when you report it.", { [REQUEST_ID_HEADER]: requestId });
      else res.end();
    });
  });
  const planner = new SubscriptionPlanner(supergraph);
  const upstream = new UpstreamSubscriptions(subgraphUrls, log);
  const hub = new SubscriptionHub(planner, upstream, gateway.clients, signer, formatError);
  // A tenant, its instance or its plan changed: the cached entry goes, and open subscriptions of that tenant take the
  // directory's answer now for their next event (new operations on open sockets re-read it anyway).
  const tenantChanged = (tenantId: string) => {
    tenants.forgetTenant(tenantId);
    hub.tenantChanged(tenantId, (caller) => authenticator.withCurrentTenant(caller)).catch((error) => log.warn({ err: error, tenantId }, "could not refresh subscriptions after a tenant change"));
  };
  for (const channel of TENANT_DIRECTORY_CHANNELS) await database.sql.listen(channel, tenantChanged);
  const webSocket = attachGraphQLWebSocket({
    server,
    schema: planner.apiGraphQLSchema,
    authenticator,
    hub,
    apollo,
    log,
    limits: config.webSocket,
    validation: { ceilings: config.operationCeilings, cost: costPolicy, introspection: config.introspection, persistedDocuments },
    exposeInternalErrors: config.nodeEnv !== "production",
    onRefused: (code) => operationMetrics.refused(code),
    rateLimits,
  });
  registerSubscriptionMetrics(registry, { subscriptions: () => webSocket.stats(), heapAfterGcBytes: () => liveHeap.bytes() });

  // Metrics say how many tenants are connected and how the process fares: for operators, not for the internet.
  const metricsServer = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (path === "/metrics" && req.method === "GET") return void sendPrometheus(res, registry).catch((error: Error) => {
      log.error({ err: error }, "could not collect metrics");
      if (!res.headersSent) sendJson(res, 500, { error: "INTERNAL", message: "Could not collect metrics." });
    });
    if (path === "/metrics.json" && req.method === "GET") return sendJson(res, 200, gatewayMetrics(webSocket.stats(), liveHeap.bytes()));
    sendJson(res, 404, { error: "NOT_FOUND", message: `No route for ${req.method} ${path}; metrics are at /metrics (Prometheus) and /metrics.json.` });
  });

  await listen(server, config.host, config.port);
  const metricsListener = options.metricsListener !== false;
  if (metricsListener) await listen(metricsServer, config.metrics.host, config.metrics.port).catch(async (error: Error) => {
    server.close();
    throw new Error(`${error.message} (METRICS_PORT)`);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host === "0.0.0.0" ? "localhost" : config.host}:${port}`;
  const metricsUrl = metricsListener ? `http://${config.metrics.host === "0.0.0.0" ? "localhost" : config.metrics.host}:${(metricsServer.address() as AddressInfo).port}` : "";
  log.info({ url: `${url}/graphql`, metrics: `${metricsUrl}/metrics` }, "gateway listening");
  return {
    url,
    metricsUrl,
    readMetrics: async () => ({ series: await metricsAsJson(registry), json: gatewayMetrics(webSocket.stats(), liveHeap.bytes()) }),
    async stop() {
      await new Promise<void>((resolve) => {
        metricsServer.close(() => resolve());
        metricsServer.closeAllConnections();
      });
      await webSocket.close();
      await upstream.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await apollo.stop();
      await database.close();
      rateLimits?.close();
      liveHeap.stop();
      await tracing?.shutdown();
    },
  };
}
