import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { getOperationAST, GraphQLError, parse, validate, type ExecutionArgs } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import type { AddressInfo } from "node:net";
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginInlineTraceDisabled } from "@apollo/server/plugin/disabled";
import { ANONYMOUS, type RequestContext } from "../auth/caller.js";
import { createErrorFormatter, logUnexpectedErrors } from "../errors/format-error.js";
import type { BuiltSubgraph } from "../federation/build-subgraph-schema.js";
import { handleGraphQLHttp, REQUEST_TIMEOUTS, sendGraphQLError, sendJson } from "../http/graphql-http.js";
import { acceptedRequestId, REQUEST_ID_HEADER, requestIdOf } from "../http/request-id.js";
import type { Logger } from "../logging/logger.js";
import { TENANT_CONTEXT_EXTENSION, TENANT_CONTEXT_HEADER, type ContextVerification, type TenantContextVerifier } from "../tenant-context/tenant-context-token.js";
import { OperationMetrics } from "../observability/operation-metrics.js";
import { counterReading, createMetricsRegistry, sendPrometheus } from "../observability/prometheus.js";
import { operationTracing, type Tracing } from "../observability/tracing.js";
import { gatewayOnlyError, gatewayOnlyField } from "./gateway-only-operations.js";
import { RejectedContexts, type ContextMetrics } from "./rejected-contexts.js";

export type ReadinessChecks = Record<string, () => Promise<boolean>>;
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, log: Logger) => Promise<void>;

export interface SubgraphServerOptions {
  name: string;
  subgraph: BuiltSubgraph;
  verifier: TenantContextVerifier;
  log: Logger;
  /** Each named check must answer true for GET /ready to be 200. */
  readiness: ReadinessChecks;
  /** Extra HTTP routes, keyed "METHOD /path" (e.g. Stripe's webhook). */
  routes?: Record<string, RouteHandler>;
  /**
   * Called for a context that was present but failed verification (forged, expired, for another subgraph or
   * another operation): at most once a minute per remote address, with how many from there went unrecorded before.
   */
  onRejectedContext?: (reason: string, requestId: string, req: IncomingMessage, suppressed: number) => Promise<void>;
  exposeInternalErrors: boolean;
  /** With tracing on: a span per operation, continuing the gateway's trace from the request's `traceparent`. */
  tracing?: Tracing | null;
}

export interface RunningServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export async function runReadinessChecks(checks: ReadinessChecks): Promise<{ ready: boolean; checks: Record<string, boolean> }> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => [name, await check().catch(() => false)] as const),
  );
  return { ready: entries.every(([, ok]) => ok), checks: Object.fromEntries(entries) };
}

/** What the HTTP path keeps per request until the operation text, which the context is bound to, is known. */
const PENDING = Symbol("pending context");

/**
 * An HTTP request's context: anonymous until the plugin below has verified the signed context against the
 * operation. Apollo hands resolvers a shallow copy of it, so the pending state is one shared object.
 */
interface HttpRequestContext extends RequestContext {
  /** The gateway's fetch span this operation continues, from the verified signed context (with tracing on). */
  traceparent?: string;
  [PENDING]: { token: string | undefined; req: IncomingMessage; log: Logger; throughGateway: boolean };
}

/**
 * One subgraph's HTTP server: POST /graphql (and graphql-ws on the same path), GET /health (process up),
 * GET /ready (its stores answer), GET /metrics (Prometheus: operations, refusals, rejected contexts, the process) and
 * GET /metrics.json (rejected contexts, refused direct calls).
 */
export async function startSubgraphServer(options: SubgraphServerOptions, host: string, port: number): Promise<RunningServer> {
  const rejections = new RejectedContexts();
  let refusedDirectCalls = 0;
  const metrics = (): ContextMetrics => ({ ...rejections.stats, refusedDirectCalls });
  const registry = createMetricsRegistry();
  const operationMetrics = new OperationMetrics(registry);
  counterReading(registry, "kombify_subgraph_rejected_contexts_total", "Tenant contexts presented but not verified (forged, expired, for another subgraph or operation).", () => rejections.stats.rejectedContexts);
  counterReading(registry, "kombify_subgraph_rejected_contexts_audited_total", "Rejected tenant contexts written to the audit log (at most one a minute per source).", () => rejections.stats.auditedRejectedContexts);
  counterReading(registry, "kombify_subgraph_refused_direct_calls_total", "Operations refused because a direct caller asked for the schema or entities.", () => refusedDirectCalls);

  /**
   * The caller, from the signed context verified against the operation text this request carries (a context is
   * bound to one operation); then the gateway-only fields are refused to anyone without a verified context.
   * Both before execution, on the parsed and validated operation.
   */
  const gatewayContext: ApolloServerPlugin<HttpRequestContext> = {
    async requestDidStart() {
      return {
        async didResolveSource({ source, contextValue }) {
          const pending = contextValue[PENDING];
          const verification = await verifiedCaller(pending.token, source, contextValue.requestId, pending.req, pending.log);
          contextValue.caller = verification.caller;
          pending.throughGateway = verification.outcome === "verified";
          if (verification.outcome === "verified" && verification.traceparent) contextValue.traceparent = verification.traceparent;
          if (verification.outcome === "verified" && verification.clientAddress) contextValue.clientAddress = verification.clientAddress;
        },
        async didResolveOperation({ document, contextValue }) {
          if (contextValue[PENDING].throughGateway) return;
          const field = gatewayOnlyField(document);
          if (field) {
            refusedDirectCalls += 1;
            throw gatewayOnlyError(field, "http");
          }
        },
      };
    },
  };

  const apollo = new ApolloServer<HttpRequestContext>({
    schema: options.subgraph.schema,
    introspection: true,
    // Only the gateway may introspect (see gateway-only-operations): nobody else learns field names from typos.
    hideSchemaDetailsFromClientErrors: true,
    // Stack traces belong in our logs, never in a response, even in development.
    includeStacktraceInErrorResponses: false,
    plugins: [
      operationMetrics.plugin<HttpRequestContext>(),
      ...(options.tracing ? [operationTracing<HttpRequestContext>(options.tracing, "signedContext")] : []),
      ApolloServerPluginInlineTraceDisabled(),
      gatewayContext,
      logUnexpectedErrors<HttpRequestContext>(options.log),
    ],
    formatError: createErrorFormatter(options.exposeInternalErrors),
  });
  await apollo.start();

  const server = createServer(REQUEST_TIMEOUTS, (req, res) => {
    const requestId = requestIdOf(req);
    const log = options.log.child({ requestId });
    route(req, res, requestId, log).catch((error) => {
      log.error({ err: error }, "request failed");
      if (!res.headersSent) sendGraphQLError(res, 500, "INTERNAL", "Internal error.");
      else res.end();
    });
  });

  async function route(req: IncomingMessage, res: ServerResponse, requestId: string, log: Logger): Promise<void> {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const extra = options.routes?.[`${req.method} ${path}`];
    if (extra) return extra(req, res, log);
    if (path === "/health" && req.method === "GET") return sendJson(res, 200, { status: "ok", service: options.name });
    if (path === "/ready" && req.method === "GET") {
      const result = await runReadinessChecks(options.readiness);
      return sendJson(res, result.ready ? 200 : 503, { service: options.name, ...result });
    }
    if (path === "/metrics" && req.method === "GET") return sendPrometheus(res, registry);
    if (path === "/metrics.json" && req.method === "GET") return sendJson(res, 200, { service: options.name, ...metrics() });
    if (path === "/graphql") {
      const header = req.headers[TENANT_CONTEXT_HEADER];
      const token = Array.isArray(header) ? header[0] : header;
      const context = async (): Promise<HttpRequestContext> => ({
        caller: ANONYMOUS,
        requestId,
        [PENDING]: { token, req, log, throughGateway: false },
      });
      return handleGraphQLHttp(apollo, req, res, context, { [REQUEST_ID_HEADER]: requestId });
    }
    sendJson(res, 404, { error: "NOT_FOUND", message: `No route for ${req.method} ${path}` });
  }

  /**
   * Anything but a valid context signed for this subgraph and this operation makes the caller anonymous;
   * rejections are counted, and recorded at most once a minute per source.
   */
  async function verifiedCaller(token: string | undefined, operation: string, requestId: string, req: IncomingMessage, log: Logger): Promise<ContextVerification> {
    const verification = await options.verifier.verify(token, operation);
    if (verification.outcome === "rejected") {
      const { audit, suppressed } = rejections.record(req.socket.remoteAddress ?? "unknown");
      log.warn({ reason: verification.reason, audited: audit }, "rejected a tenant context; treating the caller as anonymous");
      if (audit) {
        await options.onRejectedContext?.(verification.reason, requestId, req, suppressed).catch((error) =>
          log.error({ err: error }, "could not record the rejected context"),
        );
      }
    }
    return verification;
  }

  /**
   * A graphql-ws subscribe, checked as an HTTP request is: the context verified against this operation's text,
   * the gateway-only fields refused without one. Queries and mutations may come this way too, not only subscriptions.
   */
  async function subscribeArgs(
    request: IncomingMessage,
    payload: { query: string; operationName?: string | null; variables?: Record<string, unknown> | null; extensions?: Record<string, unknown> | null },
  ): Promise<ExecutionArgs | readonly GraphQLError[]> {
    let document;
    try {
      document = parse(payload.query);
    } catch (error) {
      return [error instanceof GraphQLError ? error : new GraphQLError(String(error))];
    }
    const validationErrors = validate(options.subgraph.schema, document);
    if (validationErrors.length > 0) return validationErrors;
    if (!getOperationAST(document, payload.operationName)) return [new GraphQLError("Unable to identify operation")];
    const token = payload.extensions?.[TENANT_CONTEXT_EXTENSION];
    const requestId = acceptedRequestId(payload.extensions?.requestId) ?? randomUUID();
    const log = options.log.child({ requestId });
    const verification = await verifiedCaller(typeof token === "string" ? token : undefined, payload.query, requestId, request, log);
    const field = verification.outcome === "verified" ? null : gatewayOnlyField(document);
    if (field) {
      refusedDirectCalls += 1;
      return [gatewayOnlyError(field, "ws")];
    }
    const contextValue: RequestContext = { caller: verification.caller, requestId, ...(verification.outcome === "verified" && verification.clientAddress ? { clientAddress: verification.clientAddress } : {}) };
    return {
      schema: options.subgraph.schema,
      document,
      operationName: payload.operationName,
      variableValues: payload.variables,
      contextValue,
    };
  }

  // Subscriptions over graphql-ws on the same path; each subscribe carries its own signed context.
  const webSockets = options.subgraph.schema.getSubscriptionType() ? new WebSocketServer({ server, path: "/graphql" }) : null;
  const subscriptions = webSockets
    ? useServer(
        {
          schema: options.subgraph.schema,
          isProd: !options.exposeInternalErrors,
          // The gateway reconnects under load too; graphql-ws's default of 3 s turns a busy moment into a drop.
          connectionInitWaitTimeout: 30_000,
          onSubscribe: (ctx, _id, payload) => subscribeArgs(ctx.extra.request, payload),
        },
        webSockets,
        12_000,
      )
    : null;

  await listen(server, host, port);
  const address = server.address() as AddressInfo;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
  return {
    server,
    url,
    async close() {
      await subscriptions?.dispose();
      for (const client of webSockets?.clients ?? []) client.terminate();
      webSockets?.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await apollo.stop();
    },
  };
}

/** Listens, turning a busy port into an error that says what to do. */
export function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") {
        reject(new Error(`Port ${port} on ${host} is already in use: stop whatever holds it or set another port.`));
      } else reject(error);
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
}
