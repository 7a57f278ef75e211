import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import type { ApolloServer } from "@apollo/server";
import type { FormattedExecutionResult } from "graphql-ws";
import { useServer } from "graphql-ws/use/ws";
import { GraphQLError, print, type ExecutionResult, type GraphQLSchema } from "graphql";
import { WebSocketServer } from "ws";
import { acceptedRequestId, AppError, ErrorCode, type Caller, type Logger } from "@kombify/service-core";
import type { CallerAuthenticator } from "../auth/caller-authenticator.js";
import type { GatewayContext } from "../gateway-context.js";
import type { SubscriptionHub } from "./subscription-hub.js";
import { FrameWriter } from "./frame-writer.js";
import { MAX_WEBSOCKET_MESSAGE_BYTES } from "../operation-limits.js";
import { OperationDocuments, type DocumentValidation } from "./operation-documents.js";
import { SocketSubscription } from "./socket-subscription.js";

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
}

interface Connection {
  /** Where this connection's subscription events are written. */
  frames: FrameWriter;
  caller: Caller;
  audience: string;
  subscriptions: number;
  expiryTimer?: NodeJS.Timeout;
}

type Extra = Record<PropertyKey, unknown> & { connection?: Connection };

/** What operations on a socket run with: the gateway context plus the connection they count against. */
interface SocketContext extends GatewayContext {
  connection: Connection;
  /** The graphql-ws id of the operation, which every frame of a subscription carries. */
  operationId: string;
}

/** Per connection the tenant's key for limits: the tenant, else the user, else one shared anonymous pool. */
function audienceOf(caller: Caller): string {
  if (caller.kind !== "user") return "anonymous";
  return caller.tenant ? `tenant:${caller.tenant.id}` : `user:${caller.userId}`;
}

/**
 * graphql-ws on the gateway's /graphql. The token comes in connection_init as `{ authorization: "Bearer …" }`
 * (browsers cannot set headers on the upgrade) and is verified like an HTTP request's; a bad one closes the
 * socket with 4401, and so does its expiry later on. Subscriptions go to the hub; queries and mutations sent
 * over the socket run through Apollo like HTTP ones.
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
}) {
  const { limits, log } = options;
  // No per-message compression (ws's default on servers too, stated here because it matters): deflating each
  // frame for each subscriber would cost more than everything else a delivered event costs.
  const webSockets = new WebSocketServer({ server: options.server, path: "/graphql", perMessageDeflate: false, maxPayload: MAX_WEBSOCKET_MESSAGE_BYTES });
  const documents = new OperationDocuments(options.schema, options.validation);
  const connectionsPerAudience = new Map<string, number>();
  const subscriptionsPerAudience = new Map<string, number>();
  const bump = (map: Map<string, number>, key: string, by: number) => {
    const next = (map.get(key) ?? 0) + by;
    if (next <= 0) map.delete(key);
    else map.set(key, next);
  };

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
        const audience = audienceOf(authentication.caller);
        if ((connectionsPerAudience.get(audience) ?? 0) >= limits.maxConnectionsPerTenant) {
          options.onRefused?.(ErrorCode.RATE_LIMITED);
          ctx.extra.socket.close(CloseCode.TooManyRequests, "Too many connections for this tenant.");
          return false;
        }
        bump(connectionsPerAudience, audience, 1);
        const connection: Connection = { frames: new FrameWriter(ctx.extra.socket), caller: authentication.caller, audience, subscriptions: 0 };
        if (authentication.expiresAt) {
          const remaining = Math.min(authentication.expiresAt.getTime() - Date.now(), 2 ** 31 - 1);
          connection.expiryTimer = setTimeout(() => ctx.extra.socket.close(CloseCode.Unauthorized, "The access token expired; reconnect with a fresh one."), Math.max(0, remaining));
        }
        ctx.extra.connection = connection;
        return true;
      },
      onSubscribe: (_ctx, _id, payload) => {
        const prepared = documents.prepare(payload);
        return "document" in prepared ? { schema: options.schema, ...prepared } : prepared;
      },
      onClose: (ctx) => {
        const connection = ctx.extra.connection;
        if (!connection) return;
        clearTimeout(connection.expiryTimer);
        bump(connectionsPerAudience, connection.audience, -1);
      },
      // Apollo's results over the socket are formatted already, so they go out as they are. (Subscription events
      // do not pass here: the hub's SocketSubscriptions write them to the socket themselves.)
      onNext: (_ctx, _id, _payload, _args, result) => result as FormattedExecutionResult,
      context: (ctx, id, payload) => {
        const requestId = acceptedRequestId(payload.extensions?.requestId) ?? randomUUID();
        const connection = ctx.extra.connection!;
        return { caller: connection.caller, requestId, log: log.child({ requestId }), connection, operationId: id } satisfies SocketContext;
      },
      subscribe: async (args) => {
        const context = args.contextValue as SocketContext;
        // Check and take the slot before the first await, so back-to-back subscribes cannot all slip through.
        const refusal = limitExceeded(context.connection);
        if (refusal) {
          options.onRefused?.(ErrorCode.RATE_LIMITED);
          return { errors: [new GraphQLError(refusal, { extensions: { code: ErrorCode.RATE_LIMITED } })] };
        }
        const release = reserve(context.connection);
        try {
          const subscription = await options.hub.subscribe(
            args.document,
            args.operationName ?? undefined,
            (args.variableValues ?? {}) as Record<string, unknown>,
            context,
            (leave) =>
              new SocketSubscription(
                context.connection.frames,
                context.operationId,
                () => {
                  leave();
                  release();
                },
                limits.bufferPerSubscriber,
                () => {
                  options.onRefused?.(ErrorCode.RATE_LIMITED);
                  return new AppError(ErrorCode.RATE_LIMITED, "This subscriber fell too far behind; subscribe again and read faster.");
                },
              ),
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
        const response = await options.apollo.executeOperation(
          { query: print(args.document), variables: (args.variableValues ?? {}) as Record<string, unknown>, operationName: args.operationName ?? undefined },
          { contextValue: args.contextValue as GatewayContext },
        );
        return response.body.kind === "single" ? (response.body.singleResult as never) : { errors: [new GraphQLError("Incremental delivery is not supported over WebSocket.")] };
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

  function limitExceeded(connection: Connection): string | null {
    if (connection.subscriptions >= limits.maxSubscriptionsPerConnection) {
      return `At most ${limits.maxSubscriptionsPerConnection} subscriptions may run on one connection.`;
    }
    if ((subscriptionsPerAudience.get(connection.audience) ?? 0) >= limits.maxSubscriptionsPerTenant) {
      return `Your tenant has reached ${limits.maxSubscriptionsPerTenant} open subscriptions.`;
    }
    return null;
  }

  /** Counts a subscription against its connection's and tenant's limits; the returned function gives it back once. */
  function reserve(connection: Connection): () => void {
    bump(subscriptionsPerAudience, connection.audience, 1);
    connection.subscriptions += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      bump(subscriptionsPerAudience, connection.audience, -1);
      connection.subscriptions -= 1;
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
