import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print, type DocumentNode } from "graphql";
import { createClient, type Client, type ClientOptions, type FormattedExecutionResult } from "graphql-ws";
import { KombifyApiError, type KombifyErrorCode, type KombifyGraphQLError } from "./kombify-error.js";
import registeredDocuments from "./generated/persisted-documents.json" with { type: "json" };

export interface KombifyClientOptions {
  /** The graph's URL, e.g. https://api.kombify.io/graphql or http://localhost:4000/graphql. */
  url: string;
  /**
   * The Zitadel access token, or a function that returns a fresh one: called for each request and each time the
   * WebSocket (re)connects, so a refreshed token is picked up without a new client.
   */
  token?: string | (() => string | Promise<string>);
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Extra headers on every HTTP request, e.g. an `x-request-id` to find the requests in the logs. */
  headers?: Record<string, string>;
  /**
   * Send generated documents by their registered hash first (Apollo's APQ wire format), and the text only if the
   * gateway answers PERSISTED_QUERY_NOT_FOUND. `false` sends the text every time.
   * @default true
   */
  persistedDocuments?: boolean;
  /** Subscriptions over graphql-ws. */
  webSocket?: {
    /** @default the graph's URL with http(s) turned into ws(s) */
    url?: string;
    /** A WebSocket implementation where there is no global one (Node 20: `import WebSocket from "ws"`). */
    impl?: unknown;
    /** Reconnect attempts after the connection drops; every active subscription resumes on the new one. @default Infinity */
    retryAttempts?: number;
    /** Backoff between attempts: doubling from `minMs` up to `maxMs`, with jitter. @default { minMs: 500, maxMs: 30000 } */
    retryWait?: { minMs: number; maxMs: number };
    /** graphql-ws's connection events (connecting, connected, closed, …), e.g. to show a connection state. */
    on?: ClientOptions["on"];
  };
}

/** No argument for an operation without variables or with only optional ones, else the variables. */
export type VariablesOf<TVariables> = Record<string, never> extends TVariables ? [variables?: TVariables] : [variables: TVariables];

/** One subscription event: its data, and the errors of fields that failed in it (the subscription stays open). */
export interface SubscriptionEvent<TData> {
  data: TData | null;
  errors: readonly KombifyGraphQLError[];
}

export interface SubscriptionHandlers<TData> {
  next(event: SubscriptionEvent<TData>): void;
  /** The subscription ended with an error: refused, or the connection could not be (re)established. */
  error(error: KombifyApiError): void;
  /** The server ended the subscription (say, a narrowed simulation was deleted). */
  complete?(): void;
}

/** How a document travels: its text exactly as registered, and its hash when it is in the manifest. */
interface WireDocument {
  text: string;
  hash: string | null;
}

const manifest: Readonly<Record<string, string>> = registeredDocuments;
const wireForms = new WeakMap<DocumentNode, WireDocument>();

/**
 * A generated document carries its hash (`__meta__.hash`); the manifest holds the text that hash was taken of,
 * which is what must be sent for the gateway to recognise it. Any other document is printed and sent as text.
 */
function wireForm(document: DocumentNode): WireDocument {
  let form = wireForms.get(document);
  if (!form) {
    const hash = (document as { __meta__?: { hash?: unknown } }).__meta__?.hash;
    const text = typeof hash === "string" ? manifest[hash] : undefined;
    form = text !== undefined ? { text, hash: hash as string } : { text: print(document), hash: null };
    wireForms.set(document, form);
  }
  return form;
}

/** The text a generated document is sent as (and registered with): for tools that speak graphql-ws themselves. */
export function documentText(document: DocumentNode): string {
  return wireForm(document).text;
}

const persistedQuery = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });
const isPersistedQueryNotFound = (errors: readonly KombifyGraphQLError[] | undefined) => errors?.some((error) => error.extensions?.code === "PERSISTED_QUERY_NOT_FOUND") ?? false;

/** What the gateway's WebSocket close codes mean, in the API's error codes. */
const closeCodes: Record<number, KombifyErrorCode> = { 4400: "BAD_USER_INPUT", 4401: "UNAUTHENTICATED", 4403: "FORBIDDEN", 4429: "RATE_LIMITED", 1009: "BAD_USER_INPUT" };
const UNAUTHORIZED_CLOSE = 4401;

interface CloseEventLike {
  code: number;
  reason: string;
}
const isCloseEvent = (value: unknown): value is CloseEventLike =>
  typeof value === "object" && value !== null && typeof (value as CloseEventLike).code === "number" && "reason" in value;

function socketError(error: unknown): KombifyApiError {
  if (Array.isArray(error)) return new KombifyApiError(error as KombifyGraphQLError[], 0, null, null);
  if (isCloseEvent(error)) {
    const message = `The WebSocket closed with ${error.code}${error.reason ? `: ${error.reason}` : ""}.`;
    return new KombifyApiError([{ message, extensions: { code: closeCodes[error.code] ?? "UNAVAILABLE" } }], 0, null, null);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new KombifyApiError([{ message: `The WebSocket failed: ${message}`, extensions: { code: "UNAVAILABLE" } }], 0, null, null);
}

/**
 * Sends typed operations to the kombify supergraph; throws KombifyApiError with codes on any GraphQL error.
 * Subscriptions share one graphql-ws connection per client, opened on the first and closed after the last.
 */
export class KombifyClient {
  private socketClient: Client | null = null;
  /** Closes (4401) of connections the gateway had accepted: the token expired, so a fresh one may get back in. */
  private readonly expiredCloses = new WeakSet<object>();

  constructor(private readonly options: KombifyClientOptions) {}

  private async token(): Promise<string | undefined> {
    return typeof this.options.token === "function" ? await this.options.token() : this.options.token;
  }

  private get sendsHashes(): boolean {
    return this.options.persistedDocuments !== false;
  }

  async request<TData, TVariables extends Record<string, unknown>>(document: TypedDocumentNode<TData, TVariables>, ...[variables]: VariablesOf<NoInfer<TVariables>>): Promise<TData> {
    const { text, hash } = wireForm(document);
    const token = await this.token();
    const byHash = hash !== null && this.sendsHashes;
    let answer = await this.post(byHash ? { variables, extensions: persistedQuery(hash) } : { query: text, variables }, token);
    // APQ: a gateway that does not know the hash (an older manifest) learns the text with it, then runs it.
    if (byHash && isPersistedQueryNotFound(answer.body.errors)) answer = await this.post({ query: text, variables, extensions: persistedQuery(hash) }, token);
    const { body, status, requestId } = answer;
    if (body.errors?.length) throw new KombifyApiError(body.errors, status, requestId, body.data ?? null);
    return body.data as TData;
  }

  private async post(payload: Record<string, unknown>, token: string | undefined) {
    const response = await (this.options.fetch ?? fetch)(this.options.url, {
      method: "POST",
      headers: { "content-type": "application/json", ...this.options.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ ...payload, variables: payload.variables ?? {} }),
    });
    const requestId = response.headers.get("x-request-id");
    try {
      const body = (await response.json()) as { data?: unknown; errors?: KombifyGraphQLError[] };
      return { body, status: response.status, requestId };
    } catch {
      throw new KombifyApiError([{ message: `The graph answered ${response.status} without a GraphQL body.`, extensions: { code: "UNAVAILABLE" } }], response.status, requestId, null);
    }
  }

  /**
   * Subscribes over graphql-ws; returns the function that unsubscribes. The token goes in `connection_init` as
   * `{ authorization: "Bearer …" }`, read afresh on every (re)connection. A dropped connection is retried with
   * backoff and the subscription resumes on the new one; so does one the gateway closed because the token
   * expired (4401 after it had been accepted), with the next token. Events missed while disconnected are not
   * replayed: query the current state after `on.connected` if that matters.
   */
  subscribe<TData, TVariables extends Record<string, unknown>>(document: TypedDocumentNode<TData, TVariables>, variables: NoInfer<TVariables>, handlers: SubscriptionHandlers<TData>): () => void {
    const { text, hash } = wireForm(document);
    let byHash = hash !== null && this.sendsHashes;
    let stopped = false;
    let dispose = () => {};
    const start = () => {
      // graphql-ws requires a query string: an empty one with the hash is the persisted form over the socket.
      const payload = byHash ? { query: "", variables, extensions: persistedQuery(hash!) } : { query: text, variables, ...(hash ? { extensions: persistedQuery(hash) } : {}) };
      const unsubscribe = this.socket().subscribe<TData>(payload, {
        next: (event: FormattedExecutionResult<TData>) => {
          if (!stopped) handlers.next({ data: event.data ?? null, errors: (event.errors ?? []) as KombifyGraphQLError[] });
        },
        error: (error: unknown) => {
          // Give graphql-ws back this subscription's hold on the connection (it keeps it after a fatal close).
          unsubscribe();
          if (stopped) return;
          if (byHash && Array.isArray(error) && isPersistedQueryNotFound(error as KombifyGraphQLError[])) {
            byHash = false;
            return start();
          }
          if (isCloseEvent(error) && this.expiredCloses.has(error)) return start();
          stopped = true;
          handlers.error(socketError(error));
        },
        complete: () => {
          if (!stopped) handlers.complete?.();
        },
      });
      dispose = unsubscribe;
    };
    start();
    return () => {
      stopped = true;
      dispose();
    };
  }

  /** Closes the WebSocket, ending every subscription of this client. */
  async close(): Promise<void> {
    const socket = this.socketClient;
    this.socketClient = null;
    await socket?.dispose();
  }

  private socket(): Client {
    if (this.socketClient) return this.socketClient;
    const options = this.options.webSocket ?? {};
    const wait = options.retryWait ?? { minMs: 500, maxMs: 30_000 };
    let accepted = false;
    this.socketClient = createClient({
      url: options.url ?? this.options.url.replace(/^http/, "ws"),
      webSocketImpl: options.impl,
      lazy: true,
      connectionParams: async () => {
        const token = await this.token();
        return token ? { authorization: `Bearer ${token}` } : {};
      },
      retryAttempts: options.retryAttempts ?? Number.POSITIVE_INFINITY,
      retryWait: (retries) => {
        const ceiling = Math.min(wait.maxMs, wait.minMs * 2 ** retries);
        return new Promise((resolve) => setTimeout(resolve, ceiling / 2 + Math.random() * (ceiling / 2)));
      },
      // Retry whatever is not a refusal (graphql-ws treats 4400, 4401 and a few more as final before asking):
      // a gateway restarting refuses connections for a moment, which its default would give up on.
      shouldRetry: () => true,
      on: {
        ...options.on,
        connected: (...args) => {
          accepted = true;
          options.on?.connected?.(...args);
        },
        closed: (event) => {
          // Registered here, before graphql-ws hands the same event to the subscriptions as their error.
          if (accepted && isCloseEvent(event) && event.code === UNAUTHORIZED_CLOSE) this.expiredCloses.add(event as object);
          accepted = false;
          options.on?.closed?.(event);
        },
      },
    });
    return this.socketClient;
  }
}
