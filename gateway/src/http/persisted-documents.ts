import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { ApolloServerErrorCode } from "@apollo/server/errors";
import { HeaderMap, type ApolloServer, type BaseContext, type HTTPGraphQLRequest, type HTTPGraphQLResponse, type PersistedQueryOptions } from "@apollo/server";
import { GraphQLError } from "graphql";
import { LRUCache } from "lru-cache";
import { RequestErrorCode } from "@kombify/service-core/errors";
import { MAX_REUSED_OPERATIONS_CHARS } from "../operation-limits.js";

export interface PersistedDocumentsConfig {
  /** The manifest: a JSON object of `"<sha256 hex of the text>": "<document text>"` (the typed client's generated one by default). */
  file: string;
  /** Accept only the manifest's documents (by hash, or by a text whose hash is in it); refuse others PERSISTED_QUERY_NOT_IN_LIST. */
  safelist: boolean;
}

/** Apollo's APQ keys are `apq:<hash>` unless a cache opts out of prefixes. */
const APQ_PREFIX = "apq:";
const NOT_IN_LIST_MESSAGE = "Only registered operations run on this gateway, and this document is not one of them.";

const sha256Hex = (text: string) => createHash("sha256").update(text).digest("hex");

/** What an operation brings: its text and `extensions`, from a POST body, GET parameters or a subscribe message. */
interface OperationSource {
  query?: unknown;
  extensions?: unknown;
}

/** The text to run (from the manifest when only a hash came), or why it does not run. */
export type ResolvedSource = { query: unknown; errors?: undefined } | { errors: readonly GraphQLError[] };

const refusal = (message: string, code: string) => ({ errors: [new GraphQLError(message, { extensions: { code } })] });

function persistedQueryOf(extensions: unknown): unknown {
  return typeof extensions === "object" && extensions !== null ? (extensions as { persistedQuery?: unknown }).persistedQuery : undefined;
}

/** The manifest read and checked: every key must be the sha256 of its text, or the gateway does not start. */
function readManifest(file: string): Map<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(`PERSISTED_DOCUMENTS_FILE ${file} is not a readable JSON manifest: ${(error as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error(`PERSISTED_DOCUMENTS_FILE ${file} must hold a JSON object of hash → document text.`);
  const documents = new Map<string, string>();
  for (const [hash, text] of Object.entries(parsed)) {
    if (typeof text !== "string" || sha256Hex(text) !== hash) throw new Error(`PERSISTED_DOCUMENTS_FILE ${file}: the entry ${hash} is not the sha256 of its document text.`);
    documents.set(hash, text);
  }
  return documents;
}

/**
 * Persisted documents: the typed client's manifest of registered operations, loaded at start. A registered
 * document runs by its hash alone, in Apollo's APQ wire format (`extensions.persistedQuery.sha256Hash`), over
 * HTTP and the WebSocket alike; other clients may still register theirs the APQ way (hash, then text and hash),
 * kept in a bounded LRU next to the manifest. With the safelist on, only the manifest's documents run: by hash,
 * or by a text whose hash is registered; anything else is refused PERSISTED_QUERY_NOT_IN_LIST, before parsing,
 * so an unregistered document learns nothing about the schema, not even from validation errors.
 */
export class PersistedDocuments {
  /** Documents other clients registered the APQ way (never with the safelist on). */
  private readonly learned = new LRUCache<string, string>({
    maxSize: MAX_REUSED_OPERATIONS_CHARS,
    sizeCalculation: (text) => Math.max(1, text.length),
  });

  private constructor(
    private readonly registered: ReadonlyMap<string, string>,
    readonly safelist: boolean,
  ) {}

  static load(config: PersistedDocumentsConfig): PersistedDocuments {
    return new PersistedDocuments(readManifest(config.file), config.safelist);
  }

  /** How many documents the manifest registers. */
  get size(): number {
    return this.registered.size;
  }

  private lookup(hash: string): string | undefined {
    return this.registered.get(hash) ?? (this.safelist ? undefined : this.learned.get(hash));
  }

  private learn(hash: string, text: string): void {
    if (!this.safelist && !this.registered.has(hash)) this.learned.set(hash, text);
  }

  /** Apollo Server's `persistedQueries` option: its APQ cache is the manifest first, then what clients registered. */
  apolloPersistedQueries(): PersistedQueryOptions {
    const hashOf = (key: string) => (key.startsWith(APQ_PREFIX) ? key.slice(APQ_PREFIX.length) : key);
    return {
      cache: {
        get: async (key) => this.lookup(hashOf(key)),
        set: async (key, text) => this.learn(hashOf(key), text),
        delete: async (key) => this.learned.delete(hashOf(key)),
      },
    };
  }

  /** Under the safelist, whether everything an operation brings is registered (nothing brought: Apollo refuses it). */
  private admits({ query, extensions }: OperationSource): boolean {
    const text = typeof query === "string" && query !== "" ? query : null;
    const persisted = persistedQueryOf(extensions);
    if (persisted === undefined || persisted === null) return text === null || this.registered.has(sha256Hex(text));
    const hash = (persisted as { sha256Hash?: unknown }).sha256Hash;
    return typeof hash === "string" && this.registered.has(hash) && (text === null || sha256Hex(text) === hash);
  }

  /**
   * Apollo for HTTP, refusing unregistered documents with 400 before it parses anything when the safelist is
   * on. (Apollo itself runs the APQ protocol, on the cache above; queries sent over the socket reach Apollo
   * through `executeOperation`, after `resolve` below, and not through this.)
   */
  guardHttp<Context extends BaseContext>(apollo: ApolloServer<Context>): Pick<ApolloServer<Context>, "executeHTTPGraphQLRequest"> {
    if (!this.safelist) return apollo;
    return {
      executeHTTPGraphQLRequest: async (request) => {
        const operations = httpOperations(request.httpGraphQLRequest);
        return operations.every((operation) => this.admits(operation)) ? apollo.executeHTTPGraphQLRequest(request) : notInListResponse();
      },
    };
  }

  /**
   * A subscribe message on the socket: the text to run (the manifest's, or one registered over APQ, when only a
   * hash came: graphql-ws requires `query`, so the hash comes with an empty one), or its refusal with the codes
   * Apollo gives over HTTP.
   */
  resolve(source: OperationSource): ResolvedSource {
    const text = typeof source.query === "string" && source.query !== "" ? source.query : null;
    const persisted = persistedQueryOf(source.extensions);
    if (persisted === undefined || persisted === null) {
      if (this.safelist && !this.admits(source)) return refusal(NOT_IN_LIST_MESSAGE, RequestErrorCode.PERSISTED_QUERY_NOT_IN_LIST);
      return { query: source.query };
    }
    const { version, sha256Hash: hash } = persisted as { version?: unknown; sha256Hash?: unknown };
    if (version !== 1) return refusal("Unsupported persisted query version", ApolloServerErrorCode.BAD_REQUEST);
    if (typeof hash !== "string") return refusal("The persisted query's sha256Hash must be a string.", ApolloServerErrorCode.BAD_REQUEST);
    if (text !== null) {
      if (sha256Hex(text) !== hash) return refusal("provided sha does not match query", ApolloServerErrorCode.BAD_REQUEST);
      if (this.safelist && !this.registered.has(hash)) return refusal(NOT_IN_LIST_MESSAGE, RequestErrorCode.PERSISTED_QUERY_NOT_IN_LIST);
      this.learn(hash, text);
      return { query: text };
    }
    const known = this.lookup(hash);
    if (known !== undefined) return { query: known };
    return this.safelist
      ? refusal(NOT_IN_LIST_MESSAGE, RequestErrorCode.PERSISTED_QUERY_NOT_IN_LIST)
      : refusal("PersistedQueryNotFound", RequestErrorCode.PERSISTED_QUERY_NOT_FOUND);
  }
}

/** The operations of an HTTP request as Apollo will read them: GET parameters, or a JSON body (one or a batch). */
function httpOperations(request: HTTPGraphQLRequest): OperationSource[] {
  if (request.method === "GET") {
    const params = new URLSearchParams(request.search);
    let extensions: unknown;
    try {
      extensions = params.has("extensions") ? JSON.parse(params.get("extensions")!) : undefined;
    } catch {
      // Apollo refuses malformed extensions itself; what it would run is judged by the query alone.
      extensions = undefined;
    }
    return [{ query: params.get("query") ?? undefined, extensions }];
  }
  const body = request.body;
  if (Array.isArray(body)) return body.map((operation) => (typeof operation === "object" && operation !== null ? (operation as OperationSource) : {}));
  return typeof body === "object" && body !== null ? [body as OperationSource] : [];
}

function notInListResponse(): HTTPGraphQLResponse {
  return {
    status: 400,
    headers: new HeaderMap([["content-type", "application/json; charset=utf-8"]]),
    body: {
      kind: "complete",
      string: `${JSON.stringify({ errors: [{ message: NOT_IN_LIST_MESSAGE, extensions: { code: RequestErrorCode.PERSISTED_QUERY_NOT_IN_LIST } }] })}\n`,
    },
  };
}
