import { Pool } from "undici";

export interface LoadOptions {
  /** The GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql. */
  url: string;
  /** The JSON request body, sent as is every time. */
  body: string;
  headers?: Record<string, string>;
  /** Keep-alive connections, each sending its next request as soon as its last answer has fully arrived. */
  connections: number;
  seconds: number;
}

export interface LoadSample {
  requests: number;
  /** Answers other than 200. */
  non200: number;
  /** 200 answers carrying GraphQL errors. */
  graphqlErrors: number;
  /** Requests that got no answer at all (connection refused or reset, timeout). */
  failed: number;
  /** The first error seen, for the report. */
  firstError: string | null;
  /** Milliseconds from sending each request to the last byte of its answer. */
  latencies: number[];
  seconds: number;
  rps: number;
}

const ERRORS_KEY = Buffer.from('"errors"');

/** What one request came to: null when it was a 200 without GraphQL errors, else what went wrong. */
export type Outcome = null | { kind: "non200" | "graphqlErrors" | "failed"; detail: string };

/** A 200 whose body has no `"errors"` is fine; anything else is an error of its kind. */
export function outcomeOf(statusCode: number, bytes: Buffer): Outcome {
  if (statusCode !== 200) return { kind: "non200", detail: `HTTP ${statusCode}: ${bytes.subarray(0, 300).toString()}` };
  const errorsAt = bytes.indexOf(ERRORS_KEY);
  return errorsAt === -1 ? null : { kind: "graphqlErrors", detail: `GraphQL errors: ${bytes.subarray(errorsAt, errorsAt + 300).toString()}` };
}

/**
 * A closed loop of `connections` workers for `seconds`, each calling `once` again as soon as its last call ended; every
 * call's time from start to end is a latency, and its outcome counted. `prepare`, when given, runs before each call,
 * untimed, and hands it what it made.
 */
export async function runClosedLoop<T = void>(connections: number, seconds: number, once: (prepared: T) => Promise<Outcome>, prepare?: () => Promise<T>): Promise<LoadSample> {
  const latencies: number[] = [];
  const counts = { non200: 0, graphqlErrors: 0, failed: 0 };
  let firstError: string | null = null;
  const started = performance.now();
  const end = started + seconds * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const prepared = (await prepare?.()) as T;
      const sent = performance.now();
      const outcome = await once(prepared).catch((error: Error): Outcome => ({ kind: "failed", detail: `no answer: ${error.message}` }));
      latencies.push(performance.now() - sent);
      if (outcome) {
        counts[outcome.kind] += 1;
        firstError ??= outcome.detail;
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  const elapsed = (performance.now() - started) / 1000;
  return { requests: latencies.length, ...counts, firstError, latencies, seconds: elapsed, rps: latencies.length / elapsed };
}

/**
 * `connections` keep-alive connections (undici's Pool, one request in flight per connection) posting `body` for
 * `seconds`. Every answer is read whole; it counts as an error unless it is a 200 without `"errors"` in it.
 */
export async function runLoad(options: LoadOptions): Promise<LoadSample> {
  const url = new URL(options.url);
  const pool = new Pool(url.origin, { connections: options.connections, pipelining: 1, keepAliveTimeout: 60_000 });
  const headers = { "content-type": "application/json", accept: "application/json", ...options.headers };
  const path = url.pathname + url.search;
  try {
    return await runClosedLoop(options.connections, options.seconds, async () => {
      const response = await pool.request({ path, method: "POST", headers, body: options.body });
      return outcomeOf(response.statusCode, Buffer.from(await response.body.arrayBuffer()));
    });
  } finally {
    await pool.close();
  }
}

/** One request, its status and parsed JSON answer. */
export async function postJson(url: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; json: any; bytes: number }> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", accept: "application/json", ...headers }, body });
  const text = await response.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = { unparsable: text.slice(0, 500) };
  }
  return { status: response.status, json, bytes: Buffer.byteLength(text) };
}
