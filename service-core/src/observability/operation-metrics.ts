import type { ApolloServerPlugin, BaseContext, GraphQLRequestContextWillSendResponse, GraphQLRequestListener } from "@apollo/server";
import { getOperationAST, type GraphQLFormattedError } from "graphql";
import type { Registry } from "prom-client";
import { PlainCounter, PlainHistogram, type CounterSeries, type HistogramSeries } from "./prometheus.js";

/** The codes that mean "refused for a limit": each error with one is counted in kombify_refusals_total. */
export const REFUSAL_CODES = ["RATE_LIMITED", "QUOTA_EXCEEDED", "PLAN_REQUIRED"] as const;

/** Seconds; from 1 ms (a cached or refused operation) to 15 s (SUBGRAPH_TIMEOUT_MS's default). */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15];

/** An operation name kept as a label: a GraphQL name of sane length (anything else is "other"). */
const SANE_OPERATION_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,79}$/;
const SANE_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;
const MAX_CODES = 50;

export interface OperationMetricsOptions {
  /** Distinct operation names labelled as themselves; later ones count as "other". @default 100 */
  maxOperationNames?: number;
}

interface Series {
  requests: CounterSeries;
  duration: HistogramSeries;
}

/** One operation label's series, by outcome code. */
interface OperationSeries {
  label: string;
  byCode: Map<string, Series>;
}

const STARTED = Symbol("kombify.operation.startedAt");
type Timed = { [STARTED]?: number };
const DONE = Promise.resolve();

/**
 * Requests, latency and refusals per GraphQL operation, for Prometheus:
 * - kombify_graphql_requests_total{operation,code}, kombify_graphql_request_duration_seconds{operation,code}:
 *   `operation` is the operation's name, "anonymous" without one, "other" beyond `maxOperationNames` distinct
 *   names or for a name that is no sane GraphQL name (clients choose names: the cap keeps the series bounded);
 *   `code` is the first error's `extensions.code` as answered, or "OK".
 * - kombify_refusals_total{code}: errors answered with RATE_LIMITED, QUOTA_EXCEEDED or PLAN_REQUIRED.
 *
 * The per-request cost is two Map lookups and a few field updates: the series are made once per (operation,
 * code) and kept, and prom-client's registry reads them when scraped (see PlainFamily).
 */
export class OperationMetrics {
  private readonly requests: PlainCounter;
  private readonly duration: PlainHistogram;
  private readonly refusals = new Map<string, CounterSeries>();
  private readonly operations = new Map<string, OperationSeries>();
  private readonly anonymous: OperationSeries;
  private readonly other: OperationSeries;
  private readonly codes = new Set<string>(["OK"]);
  private readonly maxOperationNames: number;
  private named = 0;

  constructor(registry: Registry, options: OperationMetricsOptions = {}) {
    this.maxOperationNames = options.maxOperationNames ?? 100;
    this.requests = new PlainCounter(
      registry,
      "kombify_graphql_requests_total",
      "GraphQL operations answered, by operation name and outcome code (the first error's code, or OK).",
    );
    this.duration = new PlainHistogram(
      registry,
      "kombify_graphql_request_duration_seconds",
      "Time from the operation's start in Apollo Server to its response, by operation name and outcome code.",
      LATENCY_BUCKETS,
    );
    const refusals = new PlainCounter(registry, "kombify_refusals_total", "Errors answered for a limit: RATE_LIMITED, QUOTA_EXCEEDED or PLAN_REQUIRED.");
    for (const code of REFUSAL_CODES) this.refusals.set(code, refusals.series({ code }));
    this.anonymous = { label: "anonymous", byCode: new Map() };
    this.other = { label: "other", byCode: new Map() };
    this.operations.set("anonymous", this.anonymous);
    this.operations.set("other", this.other);
  }

  /** One answered operation: `operationName` null or undefined for an anonymous one, `code` "OK" without errors. */
  record(operationName: string | null | undefined, code: string, seconds: number): void {
    const series = this.seriesFor(this.operationSeries(operationName), code);
    series.requests.inc();
    series.duration.observe(seconds);
  }

  /** Counts `code` as a refusal if it is one of REFUSAL_CODES (any other code is ignored). */
  refused(code: unknown): void {
    if (typeof code === "string") this.refusals.get(code)?.inc();
  }

  /** What the response carried: its outcome code, and a refusal for each refused error. */
  recordResponse(operationName: string | null | undefined, errors: readonly GraphQLFormattedError[] | undefined, seconds: number): void {
    let code = "OK";
    if (errors && errors.length > 0) {
      const first = errors[0]!.extensions?.code;
      code = typeof first === "string" ? first : "UNKNOWN";
      for (const error of errors) this.refused(error.extensions?.code);
    }
    this.record(operationName, code, seconds);
  }

  /**
   * The Apollo Server plugin that records every operation it answers (over HTTP or executeOperation). It keeps
   * no state of its own per request: the start time rides on Apollo's request context, the listener is shared.
   */
  plugin<Context extends BaseContext>(): ApolloServerPlugin<Context> {
    const listener: GraphQLRequestListener<Context> = {
      willSendResponse: (requestContext) => {
        const startedAt = (requestContext as unknown as Timed)[STARTED] ?? performance.now();
        this.recordResponse(answeredOperationName(requestContext), responseErrors(requestContext), (performance.now() - startedAt) / 1000);
        return DONE;
      },
    };
    const started = Promise.resolve(listener);
    return {
      requestDidStart(requestContext) {
        (requestContext as unknown as Timed)[STARTED] = performance.now();
        return started;
      },
    };
  }

  private operationSeries(name: string | null | undefined): OperationSeries {
    if (!name) return this.anonymous;
    const known = this.operations.get(name);
    if (known) return known;
    if (this.named >= this.maxOperationNames || !SANE_OPERATION_NAME.test(name)) return this.other;
    this.named += 1;
    const series: OperationSeries = { label: name, byCode: new Map() };
    this.operations.set(name, series);
    return series;
  }

  private seriesFor(operation: OperationSeries, rawCode: string): Series {
    const existing = operation.byCode.get(rawCode);
    if (existing) return existing;
    // Codes come from our own error formatters (a bounded set), but an unexpected one must not grow the series.
    let code = rawCode;
    if (!this.codes.has(code)) {
      if (this.codes.size >= MAX_CODES || !SANE_CODE.test(code)) code = "OTHER";
      else this.codes.add(code);
    }
    const labels = { operation: operation.label, code };
    const series = operation.byCode.get(code) ?? { requests: this.requests.series(labels), duration: this.duration.series(labels) };
    operation.byCode.set(code, series);
    // A refused raw code is not remembered, so it cannot grow the map either.
    return series;
  }
}

/**
 * The operation's name as Apollo resolved it; for an operation that did not validate, the name in its parsed
 * document; for one that did not parse, the name the client sent (the label cap applies to all of them alike).
 */
function answeredOperationName(requestContext: GraphQLRequestContextWillSendResponse<BaseContext>): string | null | undefined {
  if (requestContext.operationName !== undefined) return requestContext.operationName;
  const { document, request } = requestContext;
  if (document) return getOperationAST(document, request.operationName)?.name?.value ?? null;
  return request.operationName;
}

function responseErrors(requestContext: GraphQLRequestContextWillSendResponse<BaseContext>): readonly GraphQLFormattedError[] | undefined {
  const body = requestContext.response.body;
  return body.kind === "single" ? body.singleResult.errors : body.initialResult.errors;
}
