import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import type { AddressInfo } from "node:net";
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginInlineTraceDisabled } from "@apollo/server/plugin/disabled";
import type { RequestContext } from "../auth/caller.js";
import { createErrorFormatter, logUnexpectedErrors } from "../errors/format-error.js";
import type { BuiltSubgraph } from "../federation/build-subgraph-schema.js";
import { handleGraphQLHttp, sendGraphQLError, sendJson } from "../http/graphql-http.js";
import { REQUEST_ID_HEADER, requestIdOf } from "../http/request-id.js";
import type { Logger } from "../logging/logger.js";
import { TENANT_CONTEXT_EXTENSION, TENANT_CONTEXT_HEADER, type TenantContextVerifier } from "../tenant-context/tenant-context-token.js";

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
  /** Called for every context that was present but failed verification (forged, expired, for another subgraph). */
  onRejectedContext?: (reason: string, requestId: string, req: IncomingMessage) => Promise<void>;
  exposeInternalErrors: boolean;
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

/** One subgraph's HTTP server: POST /graphql, GET /health (process up), GET /ready (its stores answer). */
export async function startSubgraphServer(options: SubgraphServerOptions, host: string, port: number): Promise<RunningServer> {
  const apollo = new ApolloServer<RequestContext>({
    schema: options.subgraph.schema,
    introspection: true,
    // Stack traces belong in our logs, never in a response, even in development.
    includeStacktraceInErrorResponses: false,
    plugins: [ApolloServerPluginInlineTraceDisabled(), logUnexpectedErrors<RequestContext>(options.log)],
    formatError: createErrorFormatter(options.exposeInternalErrors),
  });
  await apollo.start();

  const server = createServer((req, res) => {
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
    if (path === "/graphql") {
      const contextHeader = req.headers[TENANT_CONTEXT_HEADER];
      const context = await verifiedContext(Array.isArray(contextHeader) ? contextHeader[0] : contextHeader, requestId, req, log);
      return handleGraphQLHttp(apollo, req, res, async () => context, { [REQUEST_ID_HEADER]: requestId });
    }
    sendJson(res, 404, { error: "NOT_FOUND", message: `No route for ${req.method} ${path}` });
  }

  /** Anything but a valid context signed for this subgraph makes the caller anonymous; rejections are recorded. */
  async function verifiedContext(token: string | undefined, requestId: string, req: IncomingMessage, log: Logger): Promise<RequestContext> {
    const verification = await options.verifier.verify(token);
    if (verification.outcome === "rejected") {
      log.warn({ reason: verification.reason }, "rejected a tenant context; treating the caller as anonymous");
      await options.onRejectedContext?.(verification.reason, requestId, req).catch((error) =>
        log.error({ err: error }, "could not record the rejected context"),
      );
    }
    return { caller: verification.caller, requestId };
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
          context: (ctx, _id, payload) => {
            const token = payload.extensions?.[TENANT_CONTEXT_EXTENSION];
            const requestId = typeof payload.extensions?.requestId === "string" ? payload.extensions.requestId : randomUUID();
            const log = options.log.child({ requestId });
            return verifiedContext(typeof token === "string" ? token : undefined, requestId, ctx.extra.request, log);
          },
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
