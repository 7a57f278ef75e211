import { counterReading } from "@kombify/service-core/observability";
import { Counter, Gauge, type Registry } from "prom-client";
import type { attachGraphQLWebSocket } from "../subscriptions/transport/gateway-websocket.js";

type SubscriptionStats = ReturnType<ReturnType<typeof attachGraphQLWebSocket>["stats"]>;

/** What GET /metrics.json answers: the subscriptions' state, and the process's memory and CPU. */
export function gatewayMetrics(subscriptions: SubscriptionStats, heapAfterGcBytes: number | null) {
  return { subscriptions, process: processReading(heapAfterGcBytes) };
}

/** This process's memory and CPU. */
export function processReading(heapAfterGcBytes: number | null) {
  const memory = process.memoryUsage();
  const cpu = process.cpuUsage();
  return {
    rssBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
    /** The heap just after the last full collection (null before the first): what the process really keeps. */
    heapAfterGcBytes,
    cpuUserMicros: cpu.user,
    cpuSystemMicros: cpu.system,
    uptimeSeconds: process.uptime(),
  };
}

type ProcessReading = ReturnType<typeof processReading>;

export type GatewayMetrics = ReturnType<typeof gatewayMetrics>;

/** One worker's GET /metrics.json view as its cluster primary collected it. */
export interface WorkerMetrics extends GatewayMetrics {
  /** The worker's slot, 1 to GATEWAY_WORKERS (a replacement takes the slot of the worker it replaces). */
  worker: number;
  pid: number;
}

/**
 * GET /metrics.json of a gateway of several workers: the same shape as one process's, with the subscriptions
 * summed over the workers and the process figures summed over them and the primary (what the whole gateway
 * holds and has spent; its uptime is the primary's), then each process as it is.
 */
export function clusterGatewayMetrics(workers: readonly WorkerMetrics[], primary: ProcessReading & { pid: number }) {
  const { pid: _pid, ...primaryProcess } = primary;
  const processes: ProcessReading[] = [primaryProcess, ...workers.map((worker) => worker.process)];
  const heaps = processes.map((reading) => reading.heapAfterGcBytes).filter((bytes): bytes is number => bytes !== null);
  return {
    subscriptions: sumReadings(workers.map((worker) => worker.subscriptions)) as SubscriptionStats,
    process: {
      ...(sumReadings(processes.map(({ heapAfterGcBytes: _heap, uptimeSeconds: _uptime, ...summable }) => summable)) as Omit<ProcessReading, "heapAfterGcBytes" | "uptimeSeconds">),
      heapAfterGcBytes: heaps.length > 0 ? heaps.reduce((total, bytes) => total + bytes, 0) : null,
      uptimeSeconds: primary.uptimeSeconds,
    },
    primary,
    workers,
  };
}

/** Adds up readings of one shape, number by number (nested objects alike); what is no number is the first's. */
function sumReadings(readings: readonly unknown[]): unknown {
  if (readings.length === 0) return {};
  const [first] = readings;
  if (typeof first === "number") return readings.reduce<number>((total, value) => total + (typeof value === "number" ? value : 0), 0);
  if (typeof first !== "object" || first === null) return first;
  return Object.fromEntries(Object.keys(first).map((key) => [key, sumReadings(readings.map((reading) => (reading as Record<string, unknown> | null)?.[key]))]));
}

/**
 * The subscriptions' state as Prometheus series, read from the stats the gateway keeps anyway, once per scrape
 * (summing the sockets' buffers walks every connection, so one reading serves all the series of a scrape).
 */
export function registerSubscriptionMetrics(registry: Registry, read: { subscriptions: () => SubscriptionStats; heapAfterGcBytes: () => number | null }): void {
  // Kept until the scrape's collectors have all run (they run within one turn of the event loop), never longer:
  // a reading kept for a fixed time answered a scrape right after another with the earlier scrape's counts.
  let reading: SubscriptionStats | undefined;
  const stats = (): SubscriptionStats => {
    if (!reading) {
      reading = read.subscriptions();
      setImmediate(() => (reading = undefined));
    }
    return reading;
  };
  const gauge = (name: string, help: string, value: (s: SubscriptionStats) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(value(stats()));
      },
    });
  gauge("kombify_gateway_websocket_connections", "Open graphql-ws connections.", (s) => s.connections);
  gauge("kombify_gateway_websocket_buffered_bytes", "Bytes written to WebSocket clients and not yet taken by the kernel (slow readers).", (s) => s.bufferedBytes);
  gauge("kombify_gateway_subscriptions", "Open subscriptions (subscribers) over graphql-ws.", (s) => s.subscribers);
  gauge("kombify_gateway_subscription_groups", "Groups of subscribers sharing one upstream subscription (same audience, operation, variables).", (s) => s.groups);
  gauge("kombify_gateway_upstream_subscriptions", "Subscriptions open from the gateway to the subgraphs.", (s) => s.upstream);
  counterReading(registry, "kombify_gateway_subscription_events_received_total", "Subscription events received from the subgraphs (one per group).", () => stats().events.received);
  counterReading(registry, "kombify_gateway_subscription_events_delivered_total", "Subscription events handed to subscribers (one per subscriber per event).", () => stats().events.delivered);
  new Counter({
    name: "kombify_gateway_subscription_event_fetches_total",
    help: "Fetches of other subgraphs' fields for subscription events: reused from a fresh answer (hit) or fetched (miss).",
    labelNames: ["result"],
    registers: [registry],
    collect() {
      const { hits, misses } = stats().eventFetches;
      this.reset();
      this.labels("hit").inc(hits);
      this.labels("miss").inc(misses);
    },
  });
  new Gauge({
    name: "kombify_gateway_heap_after_gc_bytes",
    help: "The V8 heap just after the last full collection: what the process really keeps (absent before the first).",
    registers: [registry],
    collect() {
      const bytes = read.heapAfterGcBytes();
      this.reset();
      if (bytes !== null) this.set(bytes);
    },
  });
}
