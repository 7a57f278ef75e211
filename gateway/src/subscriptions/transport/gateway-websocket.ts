import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import type { ApolloServer } from "@apollo/server";
import type { FormattedExecutionResult, SubscribePayload } from "graphql-ws";
import { useServer } from "graphql-ws/use/ws";
import { GraphQLError, print, type ExecutionArgs, type ExecutionResult, type GraphQLSchema } from "graphql";
import { WebSocketServer } from "ws";
import type { Logger } from "@kombify/service-core/logging";
import { AppError, ErrorCode, RequestErrorCode } from "@kombify/service-core/errors";
import { acceptedRequestId } from "@kombify/service-core/http";
import type { Caller } from "@kombify/service-core/auth";
import type { Authentication, CallerAuthenticator } from "../../auth/caller-authenticator.js";
import type { GatewayContext } from "../../gateway-context.js";
import type { SubscriptionHub } from "../core/subscription-hub.js";
import { FrameWriter } from "./frame-writer.js";
import { MAX_WEBSOCKET_MESSAGE_BYTES } from "../../operation-limits.js";
import { OperationDocuments, type DocumentValidation } from "./operation-documents.js";
import { SocketSubscription } from "./socket-subscription.js";
import type { CountedConnection } from "../limits/connection-quotas.js";
import { connectionQuotas } from "../limits/primary-connection-quotas.js";
import { quotaAudience } from "../limits/quota-audience.js";
import { whenTokenExpires } from "../limits/token-expiry.js";
import type { RateLimits } from "../../rate-limits/rate-limits.js";
import { budgetAddress } from "../../rate-limits/client-address.js";

export const CloseCode = { BadRequest: 4400, Unauthorized: 4401, TooManyRequests: 4429, TryAgainLater: 1013 } as const;
const closeCodeFor = { UNAVAILABLE: CloseCode.TryAgainLater, UNAUTHENTICATED: CloseCode.Unauthorized, BAD_USER_INPUT: CloseCode.BadRequest } as const;

export interface WebSocketLimits {
  /** @default 100 */
  maxSubscriptionsPerConnection: number;
  /** @default 20000 */
  maxSubscriptionsPerTenant: number;
  /** @default 20000 */
  maxConnectionsPerTenant: number;
  /** Milliseconds between WebSocket pings that keep idle connections alive through proxies. @default 12000 */
  keepAliveMs: number;
  /** Events held for one subscription whose client is not reading; beyond it only that one is cut off (`RATE_LIMITED`). @default 1000 */
  bufferPerSubscriber: number;
  /** With several gateway workers: the per-tenant counts are the cluster primary's, so the limits hold for the whole gateway. */
  tenantQuotasInPrimary?: boolean;
}

interface Connection extends CountedConnection {
  /** Where this connection's subscription events are written. */
  frames: FrameWriter;
  caller: Caller;
  /** The client's address, which anonymous callers' requests per minute are counted by. */
  address: string;
  expiryTimer?: NodeJS.Timeout;
  /** The operation messages admitted so far: each waits for the one before, so they take their turn (and their
   * budgets) in the order the client sent them, however long a token check or a tenant lookup takes. */
  admissions: Promise<unknown>;
}

type Extra = Record<PropertyKey, unknown> & { connection?: Connection };

/** What operations on a socket run with: the gateway context plus the connection they count against. */
interface SocketContext extends GatewayContext {
  connection: Connection;
  /** The graphql-ws id of the operation, which every frame of a subscription carries. */
  operationId: string;
  /** Whose limits the operation counts against: its own token's caller's, else the connection's. */
  audience: string;
  /** When the operation's own token expires (null without one, or when it does not expire). */
  expiresAt: Date | null;
  /** The refusal of an operation beyond its caller's budget, counted when it arrived; null within it. */
  rateLimited: GraphQLError | null;
  /** What of the subscribe message's `extensions` Apollo is given, as over HTTP: a request for the cost. (Not its
   * headers, nor a persisted query's hash: the text Apollo gets is the document printed anew.) */
  extensions: { cost: true } | undefined;
}

/**
 * An operation's own Authorization, from its `extensions.headers` (any case): GraphiQL sends the headers typed
 * in its editor there, on a socket whose connection_init carries none. undefined when there is none.
 */
function operationAuthorization(extensions: Record<string, unknown> | null | undefined): unknown {
  const headers = extensions?.headers;
  if (!headers || typeof headers !== "object" || Array.isArray(headers)) return undefined;
  for (const [name, value] of Object.entries(headers)) if (name.toLowerCase() === "authorization") return value === "" ? undefined : value;
  return undefined;
}

/**
 * graphql-ws on the gateway's /graphql. The token comes in connection_init as `{ authorization: "Bearer …" }`
 * (browsers cannot set headers on the upgrade) and is verified like an HTTP request's; a bad one closes the
 * socket with 4401, and so does its expiry later on. An operation may carry its own token instead, in its
 * subscribe payload's `extensions.headers.authorization` (as GraphiQL sends it): it then runs as that caller,
 * counts against that caller's limits, and ends with UNAUTHENTICATED when that token expires; a bad one refuses
 * that operation alone. Subscriptions go to the hub; queries and mutations sent over the socket run through
 * Apollo like HTTP ones.
 */
export function attachGraphQLWebSocket(options: {
  server: Server;
  schema: GraphQLSchema;
  authenticator: CallerAuthenticator;
  hub: SubscriptionHub;
  apollo: ApolloServer<GatewayContext>;
  log: Logger;
  limits: WebSocketLimits;
  validation: DocumentValidation;
  exposeInternalErrors: boolean;
  /** Called for each refusal for a limit (`RATE_LIMITED`, or `4429` for connections), for the refusal counter. */
  onRefused?: (code: string) => void;
  /** Requests per minute: each query, mutation and subscribe message counts; beyond it that operation alone is refused. */
  rateLimits?: Pick<RateLimits, "clientAddress" | "refusal"> | null;
}) {
  const { limits, log } = options;
  // No per-message compression (ws's default on servers too, stated here because it matters): deflating each
  // frame for each subscriber would cost more than everything else a delivered event costs.
  const webSockets = new WebSocketServer({ server: options.server, path: "/graphql", perMessageDeflate: false, maxPayload: MAX_WEBSOCKET_MESSAGE_BYTES });
  const documents = new OperationDocuments(options.schema, options.validation);
  const quotas = connectionQuotas(limits);

  const disposable = useServer<Record<string, unknown>, Extra>(
    {
      schema: options.schema,
      isProd: !options.exposeInternalErrors,
      connectionInitWaitTimeout: 10_000,
      onConnect: async (ctx) => {
        const raw = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        const authentication = await options.authenticator.fromAuthorization(typeof raw === "string" ? raw : undefined);
        if (!authentication.ok) {
          ctx.extra.socket.close(closeCodeFor[authentication.code], authentication.message.slice(0, 120));
          return false;
        }
        const audience = quotaAudience(authentication.caller);
        if (!(await quotas.admitConnection(audience))) {
          options.onRefused?.(ErrorCode.RATE_LIMITED);
          ctx.extra.socket.close(CloseCode.TooManyRequests, "Too many connections for this tenant.");
          return false;
        }
        // Closed while the primary counted it (several workers): onClose came first and had nothing to give back.
        if (ctx.extra.socket.readyState !== ctx.extra.socket.OPEN) {
          quotas.releaseConnection(audience);
          return false;
        }
        const address = options.rateLimits?.clientAddress(ctx.extra.request) ?? "";
        const connection: Connection = { frames: new FrameWriter(ctx.extra.socket), caller: authentication.caller, address, audience, subscriptions: 0, admissions: Promise.resolve() };
        if (authentication.expiresAt) {
          connection.expiryTimer = whenTokenExpires(authentication.expiresAt, () =>
            ctx.extra.socket.close(CloseCode.Unauthorized, "The access token expired; reconnect with a fresh one."),
          );
        }
        ctx.extra.connection = connection;
        return true;
      },
      // Every operation sent is counted first, whatever becomes of it (as over HTTP): against its own token's
      // caller once verified, else the connection's, with the tenant and plan as they are now. Then it is read,
      // and weighed against that caller's plan.
      onSubscribe: (ctx, id, payload) => {
        const connection = ctx.extra.connection!;
        const admitted = connection.admissions.then(() => admit(ctx, id, payload));
        connection.admissions = admitted.catch(() => {});
        return admitted;
      },
      onClose: (ctx) => {
        const connection = ctx.extra.connection;
        if (!connection) return;
        clearTimeout(connection.expiryTimer);
        quotas.releaseConnection(connection.audience);
      },
      // Apollo's results over the socket are formatted already, so they go out as they are. (Subscription events
      // do not pass here: the hub's SocketSubscriptions write them to the socket themselves.)
      onNext: (_ctx, _id, _payload, _args, result) => result as FormattedExecutionResult,
      subscribe: async (args) => {
        const context = args.contextValue as SocketContext;
        if (context.rateLimited) return { errors: [context.rateLimited] };
        // The connection's slot is taken before anything is awaited, so back-to-back subscribes cannot all slip
        // through; counted in this process the whole answer is immediate.
        const reserved = quotas.reserveSubscription(context.connection, context.audience);
        const reservation = reserved instanceof Promise ? await reserved : reserved;
        if ("refusal" in reservation) {
          if (reservation.code === ErrorCode.RATE_LIMITED) options.onRefused?.(ErrorCode.RATE_LIMITED);
          return { errors: [new GraphQLError(reservation.refusal, { extensions: { code: reservation.code } })] };
        }
        const release = reservation.release;
        try {
          const subscription = await options.hub.subscribe(
            args.document,
            args.operationName ?? undefined,
            (args.variableValues ?? {}) as Record<string, unknown>,
            context,
            (leave) => {
              let expiry: NodeJS.Timeout | undefined;
              const subscriber = new SocketSubscription(
                context.connection.frames,
                context.operationId,
                () => {
                  clearTimeout(expiry);
                  leave();
                  release();
                },
                limits.bufferPerSubscriber,
                () => {
                  options.onRefused?.(ErrorCode.RATE_LIMITED);
                  return new AppError(ErrorCode.RATE_LIMITED, "This subscriber fell too far behind; subscribe again and read faster.");
                },
              );
              // The operation's own token ends it, not the socket, which the connection's own token governs.
              if (context.expiresAt) {
                const expired = () => new AppError(ErrorCode.UNAUTHENTICATED, "The access token expired; subscribe again with a fresh one.");
                expiry = whenTokenExpires(context.expiresAt, () => subscriber.fail(expired()));
              }
              return subscriber;
            },
          );
          // It yields nothing to graphql-ws, which only sends `complete` or `error` once it settles.
          return subscription as AsyncIterable<ExecutionResult>;
        } catch (error) {
          release();
          if (error instanceof AppError) return { errors: [error] };
          context.log.error({ err: error }, "could not start a subscription");
          return { errors: [new GraphQLError("Internal error. Quote the request id when you report it.", { extensions: { code: ErrorCode.INTERNAL } })] };
        }
      },
      execute: async (args) => {
        const context = args.contextValue as SocketContext;
        if (context.rateLimited) return { errors: [context.rateLimited] };
        const response = await options.apollo.executeOperation(
          {
            query: print(args.document),
            variables: (args.variableValues ?? {}) as Record<string, unknown>,
            operationName: args.operationName ?? undefined,
            extensions: context.extensions,
          },
          { contextValue: args.contextValue as GatewayContext },
        );
        return response.body.kind === "single" ? (response.body.singleResult as never) : { errors: [new GraphQLError("Incremental delivery is not supported over WebSocket.", { extensions: { code: RequestErrorCode.BAD_REQUEST } })] };
      },
    },
    webSockets,
    limits.keepAliveMs,
  );
  // ws reports a client's protocol violation (a message over the size limit, a bad frame) as an "error" on the
  // socket and closes it with the matching code (1009, 1002) itself. graphql-ws's listener for it would print
  // a stack trace to the console for every such client; this one replaces it with one log line.
  webSockets.on("connection", (socket) => {
    socket.removeAllListeners("error");
    socket.on("error", (error: Error & { code?: string }) => log.info({ code: error.code, reason: error.message }, "closed a WebSocket whose client broke the protocol"));
  });

  /** One operation message, read: counted, its own token checked, parsed, validated and weighed (see onSubscribe). */
  async function admit(ctx: { extra: Extra }, id: string, payload: SubscribePayload): Promise<ExecutionArgs | readonly GraphQLError[]> {
    const connection = ctx.extra.connection!;
    const connectionCaller = await options.authenticator.withCurrentTenant(connection.caller);
    const authorization = operationAuthorization(payload.extensions);
    const authentication = typeof authorization === "string" ? await options.authenticator.fromAuthorization(authorization) : null;
    const caller = authentication?.ok ? authentication.caller : connectionCaller;
    const rateLimited = (await options.rateLimits?.refusal(caller, connection.address)) ?? null;
    if (authorization !== undefined && typeof authorization !== "string") {
      return [new GraphQLError("The Authorization header must be 'Bearer <access token>'.", { extensions: { code: ErrorCode.UNAUTHENTICATED } })];
    }
    if (authentication && !authentication.ok) return [new GraphQLError(authentication.message, { extensions: { code: authentication.code } })];
    const prepared = documents.prepare(payload);
    if (!("document" in prepared)) return prepared;
    const costly = documents.costRefusal(prepared, caller);
    if (costly) return [costly];
    // A well-formed operation beyond the budget is answered like one that ran (a result with the error, then
    // complete), by subscribe or execute below: refused alone, the socket and its other operations untouched.
    const context = socketContext(ctx.extra, id, payload.extensions, authentication?.ok ? authentication : null);
    return { schema: options.schema, ...prepared, contextValue: { ...context, caller, rateLimited } satisfies SocketContext };
  }

  /** The context of one operation on the socket: the operation's own caller when its token came with it. */
  function socketContext(extra: Extra, id: string, extensions: Record<string, unknown> | null | undefined, own: Extract<Authentication, { ok: true }> | null): SocketContext {
    const requestId = acceptedRequestId(extensions?.requestId) ?? randomUUID();
    const connection = extra.connection!;
    const caller = own ? own.caller : connection.caller;
    return {
      caller,
      requestId,
      log: log.child({ requestId }),
      connection,
      operationId: id,
      audience: own ? quotaAudience(own.caller) : connection.audience,
      expiresAt: own?.expiresAt ?? null,
      extensions: extensions?.cost === true ? { cost: true } : undefined,
      rateLimited: null,
      ...(connection.address ? { clientAddress: budgetAddress(connection.address) } : {}),
    };
  }

  return {
    stats: () => {
      // Bytes written to clients and not yet taken by the kernel: what slow readers cost this process.
      let bufferedBytes = 0;
      for (const socket of webSockets.clients) bufferedBytes += socket.bufferedAmount;
      return { connections: webSockets.clients.size, bufferedBytes, ...options.hub.stats };
    },
    async close() {
      await disposable.dispose();
      for (const client of webSockets.clients) client.terminate();
      webSockets.close();
    },
  };
}
