import { Pool } from "undici";
import { errors } from "@kombify/service-core/errors";
import { REQUEST_ID_HEADER } from "@kombify/service-core/http";
import { TENANT_CONTEXT_HEADER } from "@kombify/service-core/tenant-context";
import type { FetchOptions, FetchOutcome, SubgraphFetches } from "../telemetry/subgraph-fetches.js";

/** A subgraph's answer as received: its text (parsed by each reader, since execution merges into what it parses). */
export interface SubgraphAnswer {
  text: string;
  cacheControl: string | undefined;
}

/** One fetch as the client sends it: the body, whose caller, and how to sign for it when it goes out. */
export interface SubgraphCall {
  /** The JSON request body: `{"query":…,"operationName":…,"variables":…}`. */
  body: string;
  /** Who may share an identical fetch already in flight (see fetchAudience); null: never shared (mutations). */
  audience: string | null;
  requestId: string;
  /** The signed tenant context for this fetch: asked only when the fetch is really sent. */
  signedContext: () => Promise<string>;
  /** For metrics and spans: the fetch's options as telemetry knows them. */
  telemetry: FetchOptions;
}

export interface SubgraphClientOptions {
  /** A subgraph answer taking longer than this is UNAVAILABLE, not a hung client. */
  timeoutMs: number;
  /** Keep-alive connections to the subgraph at most. */
  connections: number;
  fetches?: SubgraphFetches;
}

/**
 * The gateway's connection to one subgraph: a keep-alive undici pool (no WHATWG Request/Response/Headers per
 * fetch, no global dispatcher shared with everything else), and in-flight deduplication: identical query fetches
 * (the same body) of one audience sent while one is on its way are answered by that one subgraph request, as
 * Apollo Router's and Hive Gateway's deduplication do. Nothing is remembered once the answer is in, and no
 * mutation is ever shared. The gateway's other HTTP calls use this same undici's fetch: Node's global fetch is
 * another copy of undici, loaded on first use, about 10 MB more for every gateway process.
 */
export class SubgraphClient {
  private readonly pool: Pool;
  private readonly path: string;
  private readonly host: string;
  private readonly inflight = new Map<string, Promise<SubgraphAnswer>>();
  private shared = 0;

  constructor(
    readonly name: string,
    url: string,
    private readonly options: SubgraphClientOptions,
  ) {
    const parsed = new URL(url);
    this.path = `${parsed.pathname}${parsed.search}`;
    this.host = parsed.host;
    this.pool = new Pool(parsed.origin, {
      connections: options.connections,
      keepAliveTimeout: 30_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  }

  /** Fetches answered by another request's identical fetch in flight, since start. */
  get sharedFetches(): number {
    return this.shared;
  }

  send(call: SubgraphCall): Promise<SubgraphAnswer> {
    if (call.audience === null) return this.sendAlone(call);
    const key = `${call.audience}\n${call.body}`;
    const leader = this.inflight.get(key);
    if (leader) {
      this.shared += 1;
      return leader;
    }
    const sent = this.sendAlone(call).finally(() => this.inflight.delete(key));
    this.inflight.set(key, sent);
    return sent;
  }

  private async sendAlone(call: SubgraphCall): Promise<SubgraphAnswer> {
    const fetches = this.options.fetches;
    const startedAt = fetches?.begin(this.name, call.telemetry) ?? 0;
    let outcome: FetchOutcome = "unavailable";
    try {
      const response = await this.pool.request({
        method: "POST",
        path: this.path,
        headers: {
          host: this.host,
          "content-type": "application/json",
          accept: "application/graphql-response+json, application/json",
          [REQUEST_ID_HEADER]: call.requestId,
          [TENANT_CONTEXT_HEADER]: await call.signedContext(),
        },
        body: call.body,
        // The whole answer, body included: undici's own timeouts are per phase, and a body that trickles in
        // resets bodyTimeout with every chunk.
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      const text = await response.body.text();
      // A subgraph answers GraphQL with 200 (or 4xx with a GraphQL body for a request it refused); anything
      // else (a proxy's 502 page, a crash) is not an answer.
      if (response.statusCode >= 500 || !text.startsWith("{")) throw new Error(`HTTP ${response.statusCode}`);
      const cacheControl = response.headers["cache-control"];
      const answer: SubgraphAnswer = { text, cacheControl: Array.isArray(cacheControl) ? cacheControl.join(", ") : cacheControl };
      outcome = fetches ? errorsOf(text) : {};
      return answer;
    } catch (error) {
      throw unavailableFor(this.name, error);
    } finally {
      fetches?.end(this.name, call.telemetry, startedAt, outcome);
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** A GraphQL response as a subgraph answers it. */
export interface SubgraphResponse {
  data?: Record<string, any> | null;
  errors?: { message: string; path?: readonly (string | number)[]; extensions?: Record<string, unknown> }[];
}

/**
 * A subgraph's answer parsed for one reader: anything that is not a GraphQL response (text that only starts like
 * JSON, errors that are no list, data that is no object) is the subgraph being unavailable, as a 5xx is.
 */
export function parseAnswer(subgraph: string, text: string): SubgraphResponse {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw unavailableFor(subgraph, error);
  }
  const response = parsed as SubgraphResponse;
  const dataValid = response.data === undefined || response.data === null || (typeof response.data === "object" && !Array.isArray(response.data));
  const errorsValid = response.errors === undefined || (Array.isArray(response.errors) && response.errors.every((error) => typeof error === "object" && error !== null));
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed) || !dataValid || !errorsValid) {
    throw unavailableFor(subgraph, new Error("not a GraphQL response"));
  }
  return response;
}

function unavailableFor(subgraph: string, cause: unknown): Error {
  const unavailable = errors.unavailable(`The ${subgraph} service is unavailable; try again shortly.`);
  unavailable.cause = cause;
  return unavailable;
}

/** Only for metrics: whether (and with which code) the answer carries errors, without parsing it twice when it has none. */
function errorsOf(text: string): FetchOutcome {
  if (!text.includes('"errors"')) return {};
  try {
    const { errors } = JSON.parse(text) as { errors?: unknown };
    if (errors === undefined || errors === null) return {};
    // Errors that are no list of objects are no GraphQL answer (parseAnswer refuses it too).
    if (!Array.isArray(errors) || errors.some((error) => typeof error !== "object" || error === null)) return "unavailable";
    return { errors };
  } catch {
    return "unavailable";
  }
}
