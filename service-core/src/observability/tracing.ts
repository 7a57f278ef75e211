import type { ApolloServerPlugin, BaseContext, GraphQLRequestListener } from "@apollo/server";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { defaultResource, resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";
import { z } from "zod";
import { envTypes } from "../config/env.js";

export type Tracer = ReturnType<BasicTracerProvider["getTracer"]>;
export type Span = ReturnType<Tracer["startSpan"]>;
type SpanOptions = NonNullable<Parameters<Tracer["startSpan"]>[1]>;
/** OpenTelemetry's Context (the API package is the gateway's dependency, not service-core's: named through the SDK). */
export type TraceContext = NonNullable<Parameters<Tracer["startSpan"]>[2]>;
type SpanKind = NonNullable<SpanOptions["kind"]>;
type SpanStatusCode = Parameters<Span["setStatus"]>[0]["code"];

/** @opentelemetry/api's SpanKind.SERVER and SpanStatusCode.ERROR. */
const SPAN_KIND_SERVER = 1 as SpanKind;
const SPAN_STATUS_ERROR = 2 as SpanStatusCode;

/** The standard OpenTelemetry variables each service's configuration reads (see tracingOptions). */
export const tracingEnvShape = {
  OTEL_EXPORTER_OTLP_ENDPOINT: envTypes.url().optional(),
  OTEL_SERVICE_NAME: z.string().min(1).max(200).optional().describe("a service name for traces"),
};

export interface TracingOptions {
  /** The OTLP/HTTP collector's base URL (OTEL_EXPORTER_OTLP_ENDPOINT); spans go to `{endpoint}/v1/traces`, as JSON. */
  endpoint: string;
  /** service.name of every span (OTEL_SERVICE_NAME, else the process's own: "gateway", "subgraph-<name>"). */
  serviceName: string;
  /** Milliseconds between exports of finished spans. @default the SDK's: OTEL_BSP_SCHEDULE_DELAY, else 5000 */
  scheduledDelayMillis?: number;
}

/** Tracing options from parsed settings: null (no tracer at all) unless OTEL_EXPORTER_OTLP_ENDPOINT is set. */
export function tracingOptions(
  settings: { OTEL_EXPORTER_OTLP_ENDPOINT?: string; OTEL_SERVICE_NAME?: string },
  defaultServiceName: string,
): TracingOptions | null {
  if (!settings.OTEL_EXPORTER_OTLP_ENDPOINT) return null;
  return { endpoint: settings.OTEL_EXPORTER_OTLP_ENDPOINT, serviceName: settings.OTEL_SERVICE_NAME ?? defaultServiceName };
}

/**
 * A Context holding nothing but what is set on it: the base an incoming `traceparent` is extracted onto (what
 * @opentelemetry/api's ROOT_CONTEXT is; the interface is all the SDK needs).
 */
class ValueContext implements TraceContext {
  constructor(private readonly values: ReadonlyMap<symbol, unknown> = new Map()) {}
  getValue(key: symbol): unknown {
    return this.values.get(key);
  }
  setValue(key: symbol, value: unknown): TraceContext {
    return new ValueContext(new Map(this.values).set(key, value));
  }
  deleteValue(key: symbol): TraceContext {
    const values = new Map(this.values);
    values.delete(key);
    return new ValueContext(values);
  }
}

const ROOT = new ValueContext();
const propagator = new W3CTraceContextPropagator();
type HeaderSource = { get(name: string): string | null | undefined };
const headerGetter = {
  keys: () => ["traceparent", "tracestate"],
  get: (headers: HeaderSource, key: string) => headers.get(key) ?? undefined,
};

/**
 * One service's tracer, exporting over OTLP/HTTP in batches. Never registered globally: a test process runs the
 * gateway and six subgraphs, each with its own service name, so spans are parented explicitly, not through
 * the active context (and @apollo/gateway's own spans, written against the global tracer, stay no-ops).
 */
export class Tracing {
  readonly tracer: Tracer;

  private constructor(private readonly provider: BasicTracerProvider) {
    this.tracer = provider.getTracer("kombify");
  }

  static start(options: TracingOptions): Tracing {
    const exporter = new OTLPTraceExporter({ url: `${options.endpoint.replace(/\/+$/, "")}/v1/traces` });
    const provider = new BasicTracerProvider({
      resource: defaultResource().merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName })),
      spanProcessors: [new BatchSpanProcessor(exporter, options.scheduledDelayMillis ? { scheduledDelayMillis: options.scheduledDelayMillis } : {})],
    });
    return new Tracing(provider);
  }

  /** The trace an incoming request's `traceparent` (and `tracestate`) header continues, if it carries a valid one. */
  continuedFrom(headers: HeaderSource | undefined): TraceContext | undefined {
    if (!headers?.get("traceparent")) return undefined;
    const context = propagator.extract(ROOT, headers, headerGetter);
    return context === ROOT ? undefined : context;
  }

  /** Exports what is left; spans ended after it are dropped. */
  async shutdown(): Promise<void> {
    await this.provider.shutdown();
  }
}

/** The W3C `traceparent` that makes the receiver's spans children of `span`. */
export function traceparentOf(span: Span): string {
  const { traceId, spanId, traceFlags } = span.spanContext();
  return `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, "0")}`;
}

const operationSpans = new WeakMap<object, Span>();

/** The span of the operation whose context value this is (while it runs, with tracing on). */
export function operationSpanOf(contextValue: object): Span | undefined {
  return operationSpans.get(contextValue);
}

/**
 * One span per operation, named "<type> <name>" ("query GetStacks"; "query" for an anonymous one) once the
 * operation is known, continuing the trace of the request's `traceparent` header. The span is the parent of
 * what the operation does (see operationSpanOf); its status is an error when the response has errors, with
 * the first one's code. Installed only when tracing is on.
 */
export function operationTracing<Context extends BaseContext & { requestId?: string; traceparent?: string }>(
  tracing: Tracing,
  /**
   * Where the trace to continue comes from: the request's `traceparent` header (the gateway, continuing its
   * client's trace), or the verified signed context's (a subgraph: only the gateway places spans in its traces,
   * known once the context is verified, so the span is made then, dated from the request's start).
   * @default "header"
   */
  parentFrom: "header" | "signedContext" = "header",
): ApolloServerPlugin<Context> {
  return {
    async requestDidStart({ request, contextValue }): Promise<GraphQLRequestListener<Context>> {
      const startTime = Date.now();
      let made: Span | undefined;
      const operationSpan = (): Span => {
        if (made) return made;
        const parent =
          parentFrom === "header"
            ? tracing.continuedFrom(request.http?.headers)
            : contextValue.traceparent
              ? tracing.continuedFrom(new Map([["traceparent", contextValue.traceparent]]))
              : undefined;
        made = tracing.tracer.startSpan(
          "GraphQL Operation",
          { kind: SPAN_KIND_SERVER, startTime, attributes: contextValue.requestId ? { "kombify.request_id": contextValue.requestId } : {} },
          parent,
        );
        operationSpans.set(contextValue, made);
        return made;
      };
      if (parentFrom === "header") operationSpan();
      return {
        async didResolveOperation({ operation, operationName }) {
          const span = operationSpan();
          // Apollo calls this hook even when the operation name matches no operation (it fails right after).
          if (!operation) return;
          span.updateName(operationName ? `${operation.operation} ${operationName}` : operation.operation);
          span.setAttribute("graphql.operation.type", operation.operation);
          if (operationName) span.setAttribute("graphql.operation.name", operationName);
        },
        async willSendResponse({ response }) {
          const span = operationSpan();
          const errors = response.body.kind === "single" ? response.body.singleResult.errors : response.body.initialResult.errors;
          if (errors && errors.length > 0) {
            const code = String(errors[0]!.extensions?.code ?? "UNKNOWN");
            span.setAttribute("graphql.error.code", code);
            span.setStatus({ code: SPAN_STATUS_ERROR, message: code });
          }
          span.end();
          operationSpans.delete(contextValue);
        },
      };
    },
  };
}
