import type { ServerResponse } from "node:http";
import { collectDefaultMetrics, Counter, Registry } from "prom-client";

let processRegistry: Registry | undefined;

/**
 * The process's own series (CPU, memory, heap spaces, event-loop lag, GC, handles), set up once per process
 * whatever number of servers it runs (tests start seven in one), under prom-client's standard names
 * (`process_*`, `nodejs_*`) so stock Node.js dashboards read them. Never prom-client's global registry.
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/**
 * One server's series in their own registry, so servers sharing a process do not mix theirs; a scrape answers
 * them followed by the process's (see processMetrics).
 */
export function createMetricsRegistry(): Registry {
  processMetrics();
  return new Registry();
}

/** What GET /metrics answers, in Prometheus text format 0.0.4: the server's series, then the process's. */
export async function prometheusText(registry: Registry): Promise<string> {
  const [own, process] = await Promise.all([registry.metrics(), processMetrics().metrics()]);
  return own.trim() === "" ? process : `${own}\n${process}`;
}

export async function sendPrometheus(res: ServerResponse, registry: Registry): Promise<void> {
  const text = await prometheusText(registry);
  res.writeHead(200, { "content-type": Registry.PROMETHEUS_CONTENT_TYPE });
  res.end(text);
}

/**
 * A counter whose value is a running total kept elsewhere (the JSON views' counters), read at scrape time:
 * one source of truth, and nothing on the path that counts.
 */
export function counterReading(registry: Registry, name: string, help: string, read: () => number): Counter {
  return new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}
