import { createClient, type Client, type FormattedExecutionResult } from "graphql-ws";
import WebSocket from "ws";

export interface CollectedSubscription<T> {
  events: FormattedExecutionResult<T, unknown>[];
  /** Resolves when the stream completes; rejects with what the server sent on error. */
  done: Promise<void>;
  /** Resolves once `predicate` holds for the events received so far. */
  until(predicate: (events: FormattedExecutionResult<T, unknown>[]) => boolean, timeoutMs?: number): Promise<FormattedExecutionResult<T, unknown>[]>;
  unsubscribe(): void;
}

/** The WebSocket implementation for clients in tests (Node 20 has no global one), e.g. KombifyClient's `webSocket.impl`. */
export const TestWebSocket = WebSocket;

/** A graphql-ws client over `ws`, as a partner's script would use it. */
export function wsClient(url: string, connectionParams?: Record<string, unknown>, options: { retryAttempts?: number } = {}): Client {
  return createClient({
    url: url.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    connectionParams,
    retryAttempts: options.retryAttempts ?? 0,
    lazy: true,
  });
}

/** Subscribes and records every event, for assertions. */
export function collect<T = any>(client: Client, query: string, variables: Record<string, unknown> = {}, extensions?: Record<string, unknown>): CollectedSubscription<T> {
  const events: FormattedExecutionResult<T, unknown>[] = [];
  const waiters = new Set<() => void>();
  let unsubscribe = () => {};
  const done = new Promise<void>((resolve, reject) => {
    unsubscribe = client.subscribe<T>({ query, variables, extensions }, {
      next: (event) => {
        events.push(event);
        for (const wake of waiters) wake();
      },
      error: (error) => {
        for (const wake of waiters) wake();
        reject(error);
      },
      complete: () => {
        for (const wake of waiters) wake();
        resolve();
      },
    });
  });
  done.catch(() => {});
  return {
    events,
    done,
    unsubscribe: () => unsubscribe(),
    until(predicate, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (predicate(events)) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(events);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out; received ${JSON.stringify(events).slice(0, 2000)}`));
        }, timeoutMs);
        waiters.add(check);
        done.then(check, (error) => {
          waiters.delete(check);
          clearTimeout(timer);
          reject(error);
        });
        check();
      });
    },
  };
}
