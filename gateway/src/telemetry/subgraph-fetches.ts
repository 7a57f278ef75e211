import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { LATENCY_BUCKETS, operationSpanOf, PlainCounter, PlainHistogram, traceparentOf, type CounterSeries, type HistogramSeries, type Span, type Tracing } from "@kombify/service-core/observability";
import type { Registry } from "prom-client";

/** A fetch as telemetry knows it: its request's context and its operation name; the object identifies the fetch. */
export interface FetchOptions {
  context: object;
  request: { operationName?: string | null };
}

/** What a fetch came back with: the subgraph's response (its errors), or no answer at all. */
export type FetchOutcome = { errors?: readonly { extensions?: Record<string, unknown> }[] | null } | "unavailable";

const SANE_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;
const MAX_CODES_PER_SUBGRAPH = 30;

interface SubgraphSeries {
  duration: HistogramSeries;
  errors: Map<string, CounterSeries>;
}

/**
 * Subgraph fetches as the gateway sees them: latency and errors per subgraph for Prometheus, and with tracing on
 * a client span per fetch, a child of its operation's span, whose `traceparent` the fetch carries so the
 * subgraph's operation span continues the trace.
 * - kombify_gateway_subgraph_fetch_duration_seconds{subgraph}: every fetch, answered or not.
 * - kombify_gateway_subgraph_fetch_errors_total{subgraph,code}: fetches answered with errors (the first one's
 *   code) or not answered at all (UNAVAILABLE: unreachable, timed out, not GraphQL).
 */
export class SubgraphFetches {
  private readonly duration: PlainHistogram;
  private readonly errors: PlainCounter;
  private readonly series = new Map<string, SubgraphSeries>();
  /** Each traced fetch's span, by the options object the data source passes from process() to willSendRequest(). */
  private readonly spans = new WeakMap<object, Span>();

  constructor(
    registry: Registry,
    private readonly tracing: Tracing | null,
  ) {
    this.duration = new PlainHistogram(
      registry,
      "kombify_gateway_subgraph_fetch_duration_seconds",
      "Time from sending a fetch to a subgraph to its answer (or failure), by subgraph.",
      LATENCY_BUCKETS,
    );
    this.errors = new PlainCounter(
      registry,
      "kombify_gateway_subgraph_fetch_errors_total",
      "Subgraph fetches answered with errors (the first one's code) or not answered (UNAVAILABLE), by subgraph.",
    );
  }

  /** A fetch starts: its start time (and, with tracing on, its span). */
  begin(subgraph: string, options: FetchOptions): number {
    if (this.tracing) {
      const operation = operationSpanOf(options.context);
      const span = this.tracing.tracer.startSpan(
        `fetch ${subgraph}`,
        {
          kind: SpanKind.CLIENT,
          attributes: { "kombify.subgraph": subgraph, ...(options.request.operationName ? { "graphql.operation.name": options.request.operationName } : {}) },
        },
        // A subscription event's fetches belong to no request: their spans start traces of their own.
        operation ? trace.setSpan(ROOT_CONTEXT, operation) : undefined,
      );
      this.spans.set(options, span);
    }
    return performance.now();
  }

  /** The `traceparent` header this fetch carries, with tracing on. */
  traceparent(options: FetchOptions): string | undefined {
    const span = this.spans.get(options);
    return span ? traceparentOf(span) : undefined;
  }

  /** A fetch ended, `startedAt` being what begin() returned. */
  end(subgraph: string, options: FetchOptions, startedAt: number, outcome: FetchOutcome): void {
    const series = this.seriesFor(subgraph);
    series.duration.observe((performance.now() - startedAt) / 1000);
    let code: string | undefined;
    if (outcome === "unavailable") code = "UNAVAILABLE";
    else if (outcome.errors && outcome.errors.length > 0) {
      const first = outcome.errors[0]!.extensions?.code;
      code = typeof first === "string" && SANE_CODE.test(first) ? first : "OTHER";
      // Subgraphs answer with our own codes, a small set; a stray one must not grow the series all the same.
      if (!series.errors.has(code) && series.errors.size >= MAX_CODES_PER_SUBGRAPH) code = "OTHER";
    }
    if (code) {
      let counter = series.errors.get(code);
      if (!counter) series.errors.set(code, (counter = this.errors.series({ subgraph, code })));
      counter.inc();
    }
    const span = this.spans.get(options);
    if (span) {
      if (code) {
        span.setAttribute("graphql.error.code", code);
        span.setStatus({ code: SpanStatusCode.ERROR, message: code });
      }
      span.end();
      this.spans.delete(options);
    }
  }

  private seriesFor(subgraph: string): SubgraphSeries {
    let series = this.series.get(subgraph);
    if (!series) this.series.set(subgraph, (series = { duration: this.duration.series({ subgraph }), errors: new Map() }));
    return series;
  }
}
