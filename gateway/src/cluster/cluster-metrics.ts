import { AggregatorRegistry, Registry, type MetricObjectWithValues, type MetricValue } from "prom-client";
import { createMetricsRegistry, metricsAsJson } from "@kombify/service-core/observability";
import { clusterGatewayMetrics, processReading, type GatewayMetrics, type WorkerMetrics } from "../http/gateway-metrics.js";

type Series = MetricObjectWithValues<MetricValue<string>>;

/** What a worker hands its primary when asked for its metrics. */
export interface WorkerReading {
  /** Its registry's series and its process's, as prom-client's JSON. */
  series: Series[];
  /** Its GET /metrics.json view. */
  json: GatewayMetrics;
}

/** A worker as the metrics know it: its slot (the `worker` label) and process id. */
export interface ReadWorker {
  slot: number;
  pid: number;
  reading: WorkerReading;
}

/** Each worker's figures that say how the load spreads over them, under a `worker` label (its slot). */
const PER_WORKER: { name: string; help: string; type: "counter" | "gauge"; from: string }[] = [
  { name: "kombify_gateway_worker_operations_total", help: "GraphQL operations answered by each worker (its share of kombify_graphql_requests_total).", type: "counter", from: "kombify_graphql_requests_total" },
  { name: "kombify_gateway_worker_websocket_connections", help: "Open graphql-ws connections of each worker.", type: "gauge", from: "kombify_gateway_websocket_connections" },
  { name: "kombify_gateway_worker_resident_memory_bytes", help: "Resident memory of each worker process.", type: "gauge", from: "process_resident_memory_bytes" },
  { name: "kombify_gateway_worker_heap_after_gc_bytes", help: "Each worker's V8 heap just after its last full collection.", type: "gauge", from: "kombify_gateway_heap_after_gc_bytes" },
];

const sumOf = (series: Series | undefined): number | null =>
  series ? series.values.filter((value) => !("metricName" in value) || value.metricName === undefined).reduce((total, value) => total + value.value, 0) : null;

/**
 * The primary's metrics: every worker's series summed with prom-client's AggregatorRegistry (counters and
 * histograms added up, each gauge as its own `aggregator` says: sum unless set otherwise, prom-client's process
 * series as prom-client chose), plus the primary's own process, the workers running and replaced, and a few
 * figures per worker. A worker that exits leaves its counters and histograms as last read, folded into the sums,
 * so they never go down when a worker is replaced (what it counted after the last scrape is lost).
 */
export class ClusterMetrics {
  private readonly own: Registry;
  private retired: Series[] = [];

  constructor(private readonly state: { running(): number; restarts(): number }) {
    this.own = createMetricsRegistry();
  }

  /** GET /metrics: the Prometheus text of the whole gateway. */
  async prometheus(workers: readonly ReadWorker[]): Promise<string> {
    const registries = [...workers.map((worker) => worker.reading.series), this.retired, await metricsAsJson(this.own), this.clusterSeries(workers)];
    return AggregatorRegistry.aggregate(registries).metrics();
  }

  /** GET /metrics.json: the workers' views summed (see clusterGatewayMetrics), and each as it is. */
  json(workers: readonly ReadWorker[]) {
    const each: WorkerMetrics[] = workers.map((worker) => ({ worker: worker.slot, pid: worker.pid, ...worker.reading.json }));
    return { ...clusterGatewayMetrics(each, { pid: process.pid, ...processReading(null) }), workers: each };
  }

  /** A worker exited: its counters and histograms as last read stay in the sums. */
  async retire(last: WorkerReading | undefined): Promise<void> {
    if (!last) return;
    const monotonic = last.series.filter((series) => ["counter", "histogram"].includes(String(series.type)));
    this.retired = await AggregatorRegistry.aggregate([this.retired, monotonic]).getMetricsAsJSON();
  }

  private clusterSeries(workers: readonly ReadWorker[]): Series[] {
    const perWorker = PER_WORKER.map(({ name, help, type, from }) => ({
      name,
      help,
      type,
      aggregator: "sum",
      values: workers.flatMap((worker) => {
        const value = sumOf(worker.reading.series.find((series) => series.name === from));
        return value === null ? [] : [{ value, labels: { worker: String(worker.slot) } }];
      }),
    }));
    return [
      { name: "kombify_gateway_workers", help: "Gateway worker processes running (GATEWAY_WORKERS when all are up).", type: "gauge", aggregator: "sum", values: [{ value: this.state.running(), labels: {} }] },
      { name: "kombify_gateway_worker_restarts_total", help: "Gateway workers that died and were replaced.", type: "counter", aggregator: "sum", values: [{ value: this.state.restarts(), labels: {} }] },
      ...perWorker,
    ] as unknown as Series[];
  }
}
