export {
  counterReading,
  CounterSeries,
  createMetricsRegistry,
  HistogramSeries,
  metricsAsJson,
  PlainCounter,
  PlainHistogram,
  prometheusText,
  sendPrometheus,
} from "./prometheus.js";
export { LATENCY_BUCKETS, OperationMetrics, REFUSAL_CODES, type OperationMetricsOptions } from "./operation-metrics.js";
export {
  operationSpanOf,
  operationTracing,
  traceparentOf,
  Tracing,
  tracingEnvShape,
  tracingOptions,
  type Span,
  type TraceContext,
  type Tracer,
  type TracingOptions,
} from "./tracing.js";
