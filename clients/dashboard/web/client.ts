import { createClient as createSocketClient, type Client as SocketClient } from "graphql-ws";
import { Client, cacheExchange, fetchExchange, subscriptionExchange, type CombinedError } from "urql";
import type { DashboardConfig } from "./config";

export type LiveState = "connecting" | "live" | "reconnecting" | "refused";

export interface GraphClients {
  client: Client;
  socket: SocketClient;
}

/** graphql-ws close codes after which retrying cannot help: a refused or expired token, too many sockets. */
const REFUSED_CLOSE_CODES = new Set([4401, 4403, 4429]);

/**
 * urql for queries and mutations over plain HTTP (POST, so the gateway's CSRF check is satisfied), and
 * graphql-ws for subscriptions; the token goes in the Authorization header and in `connection_init`.
 */
export function createGraphClients(config: DashboardConfig, token: string, onLiveState: (state: LiveState, reason?: string) => void, onReconnected: () => void): GraphClients {
  let connectedBefore = false;
  const socket = createSocketClient({
    url: config.websocketUrl,
    connectionParams: { authorization: `Bearer ${token}` },
    lazy: true,
    keepAlive: 10_000,
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: (event) => !(isCloseEvent(event) && REFUSED_CLOSE_CODES.has(event.code)),
    on: {
      connecting: () => onLiveState(connectedBefore ? "reconnecting" : "connecting"),
      connected: () => {
        onLiveState("live");
        // Events sent while the socket was down are gone: read the current state again.
        if (connectedBefore) onReconnected();
        connectedBefore = true;
      },
      closed: (event) => {
        if (isCloseEvent(event) && REFUSED_CLOSE_CODES.has(event.code)) onLiveState("refused", event.reason || `closed with ${event.code}`);
        else if (connectedBefore) onLiveState("reconnecting");
      },
    },
  });
  const client = new Client({
    url: config.graphqlUrl,
    preferGetMethod: false,
    fetchOptions: () => ({ headers: { authorization: `Bearer ${token}` } }),
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? "" };
          return {
            subscribe(sink) {
              const unsubscribe = socket.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });
  return { client, socket };
}

function isCloseEvent(value: unknown): value is { code: number; reason: string } {
  return typeof value === "object" && value !== null && "code" in value && typeof (value as { code: unknown }).code === "number";
}

/** The GraphQL error code of a failed operation (`UNAUTHENTICATED`, `CONFLICT` …), if the graph sent one. */
export function errorCode(error: CombinedError | undefined): string | undefined {
  const code = error?.graphQLErrors.find((graphQLError) => graphQLError.extensions?.code)?.extensions?.code;
  return typeof code === "string" ? code : undefined;
}

/** A message for people: the graph's own message when there is one, else what went wrong on the way. */
export function errorMessage(error: CombinedError): string {
  const first = error.graphQLErrors[0];
  if (first) return first.message;
  return error.networkError ? `The graph could not be reached (${error.networkError.message}).` : error.message;
}
