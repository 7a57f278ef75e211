import cluster, { type Worker } from "node:cluster";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Registry } from "prom-client";
import type { Logger } from "@kombify/service-core/logging";
import { onShutdown, SHUTDOWN_BUDGET_MS } from "@kombify/service-core/server/shutdown";
import type { GatewayConfig } from "../config.js";
import { servePrimaryCounts } from "../rate-limits/request-counters.js";
import { AudienceCounts } from "../subscriptions/limits/connection-quotas.js";
import { QUOTA_CALLS } from "../subscriptions/limits/primary-connection-quotas.js";
import { WORKER_CALLS, WorkerChannels } from "./cluster-channel.js";
import { ClusterMetrics, type ReadWorker, type WorkerReading } from "./cluster-metrics.js";
import { RestartBackoff } from "./restart-backoff.js";

/** How long a scrape waits for each worker's reading; a worker that does not answer is left out of that scrape. */
const READING_TIMEOUT_MS = 3000;
/** The primary's own budget: its workers' (each stops within SHUTDOWN_BUDGET_MS), then stragglers are killed. */
const KILL_STRAGGLERS_AFTER_MS = SHUTDOWN_BUDGET_MS + 500;

// The primary loads none of the request path: not even service-core's HTTP helpers, which bring Apollo Server and ws
// (about 20 MB resident) for two lines each.
function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(error.code === "EADDRINUSE" ? new Error(`Port ${port} on ${host} is already in use: stop whatever holds it or set another port.`) : error),
    );
    server.listen(port, host, () => resolve());
  });
}

interface Slot {
  /** 1 to GATEWAY_WORKERS: the `worker` label, kept by a replacement. */
  slot: number;
  worker: Worker | null;
  startedAt: number;
  ready: boolean;
  /** The worker's latest reading, kept so that what it counted survives it (ClusterMetrics.retire). */
  lastReading?: WorkerReading;
  replacement?: NodeJS.Timeout;
}

/**
 * The gateway as a node:cluster primary (GATEWAY_WORKERS > 1): it forks the workers, which share the public port
 * (the primary accepts connections and hands them round-robin to the workers, which do all the request work),
 * replaces a worker that dies after a backoff, keeps the counts that must be one for the whole gateway (requests
 * per minute without Redis, connections and subscriptions per tenant), and serves /metrics summed over the
 * workers. SIGTERM or SIGINT (or its parent going away) stops the workers, each draining as a single gateway does,
 * then the primary. Resolves once every worker serves; rejects when one could not start, having stopped the rest.
 */
export async function runClusterPrimary(config: GatewayConfig, log: Logger): Promise<void> {
  cluster.schedulingPolicy = cluster.SCHED_RR;
  const channels = new WorkerChannels();
  const backoff = new RestartBackoff();
  const slots: Slot[] = Array.from({ length: config.workers }, (_, index) => ({ slot: index + 1, worker: null, startedAt: 0, ready: false }));
  let restarts = 0;
  let started = false;
  let stopping: Promise<void> | null = null;
  const slotOf = (worker: Worker) => slots.find((slot) => slot.worker === worker);

  if (config.rateLimits.enabled && config.rateLimits.countedByPrimary) servePrimaryCounts();
  if (config.webSocket.tenantQuotasInPrimary) {
    const counts = new AudienceCounts(config.webSocket);
    const audience = (payload: unknown) => (typeof payload === "string" ? payload : "");
    channels.answer(QUOTA_CALLS.admitConnection, (worker, payload) => counts.admitConnection(audience(payload), worker.id));
    channels.answer(QUOTA_CALLS.releaseConnection, (worker, payload) => counts.releaseConnection(audience(payload), worker.id));
    channels.answer(QUOTA_CALLS.admitSubscription, (worker, payload) => counts.admitSubscription(audience(payload), worker.id));
    channels.answer(QUOTA_CALLS.releaseSubscription, (worker, payload) => counts.releaseSubscription(audience(payload), worker.id));
    cluster.on("exit", (worker) => counts.forgetHolder(worker.id));
  }

  const metrics = new ClusterMetrics({ running: () => slots.filter((slot) => slot.worker).length, restarts: () => restarts });
  let startup!: { resolve(): void; reject(error: Error): void };
  const allServing = new Promise<void>((resolve, reject) => (startup = { resolve, reject }));

  let url = `http://${config.host === "0.0.0.0" ? "localhost" : config.host}:${config.port}`;
  channels.answer(WORKER_CALLS.ready, (worker, payload: { url?: unknown }) => {
    const slot = slotOf(worker);
    if (!slot) return;
    slot.ready = true;
    if (typeof payload?.url === "string") url = payload.url;
    if (!started && slots.every((each) => each.ready)) {
      started = true;
      startup.resolve();
    }
  });

  function fork(slot: Slot): void {
    slot.replacement = undefined;
    if (stopping) return;
    const worker = cluster.fork({ GATEWAY_WORKER_SLOT: String(slot.slot), GATEWAY_WORKERS: String(config.workers) });
    Object.assign(slot, { worker, startedAt: Date.now(), ready: false, lastReading: undefined });
    channels.attach(worker);
    worker.once("exit", (code, signal) => {
      void metrics.retire(slot.lastReading);
      Object.assign(slot, { worker: null, ready: false, lastReading: undefined });
      if (stopping) return;
      if (!started) {
        startup.reject(new Error(`gateway worker ${slot.slot} exited (${signal ?? `code ${code}`}) before it served; its log above says why`));
        return;
      }
      restarts += 1;
      const delayMs = backoff.delayAfterDeath(slot.slot, Date.now() - slot.startedAt);
      log.error({ worker: slot.slot, pid: worker.process.pid, code, signal, replaceInMs: delayMs }, "a gateway worker died: replacing it");
      slot.replacement = setTimeout(() => fork(slot), delayMs);
    });
  }

  async function readWorkers(): Promise<ReadWorker[]> {
    const serving = slots.filter((slot): slot is Slot & { worker: Worker } => slot.worker !== null && slot.ready);
    const readings = await Promise.allSettled(serving.map((slot) => channels.call<WorkerReading>(slot.worker, WORKER_CALLS.metrics, null, READING_TIMEOUT_MS)));
    const read: ReadWorker[] = [];
    readings.forEach((outcome, index) => {
      const slot = serving[index]!;
      if (outcome.status === "fulfilled") slot.lastReading = outcome.value;
      else log.warn({ worker: slot.slot, reason: (outcome.reason as Error).message }, "a worker did not hand in its metrics: its last reading stands in");
      // A busy worker's last reading rather than none: left out, its counters would drop from the sums, which
      // Prometheus takes for a reset.
      if (slot.lastReading) read.push({ slot: slot.slot, pid: slot.worker.process.pid ?? 0, reading: slot.lastReading });
    });
    return read;
  }

  // Metrics for operators, apart from the public port, as a single gateway serves them: here summed over the workers.
  const metricsServer = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const failed = (error: Error) => {
      log.error({ err: error }, "could not collect metrics");
      if (!res.headersSent) sendJson(res, 500, { error: "INTERNAL", message: "Could not collect metrics." });
    };
    if (path === "/metrics" && req.method === "GET") {
      return void readWorkers()
        .then((workers) => metrics.prometheus(workers))
        .then((text) => {
          res.writeHead(200, { "content-type": Registry.PROMETHEUS_CONTENT_TYPE });
          res.end(text);
        })
        .catch(failed);
    }
    if (path === "/metrics.json" && req.method === "GET") return void readWorkers().then((workers) => sendJson(res, 200, metrics.json(workers))).catch(failed);
    sendJson(res, 404, { error: "NOT_FOUND", message: `No route for ${req.method} ${path}; metrics are at /metrics (Prometheus) and /metrics.json.` });
  });

  async function stop(): Promise<void> {
    stopping ??= (async () => {
      for (const slot of slots) clearTimeout(slot.replacement);
      const running = slots.map((slot) => slot.worker).filter((worker): worker is Worker => worker !== null && worker.process.exitCode === null && worker.process.signalCode === null);
      const exited = running.map((worker) => new Promise<void>((resolve) => worker.once("exit", () => resolve())));
      // Each worker drains like a single gateway on SIGTERM: its listeners close, then its sockets and requests.
      for (const worker of running) worker.process.kill("SIGTERM");
      const stragglers = setTimeout(() => running.forEach((worker) => worker.process.kill("SIGKILL")), KILL_STRAGGLERS_AFTER_MS);
      await Promise.all(exited);
      clearTimeout(stragglers);
      await new Promise<void>((resolve) => {
        metricsServer.close(() => resolve());
        metricsServer.closeAllConnections();
      });
    })();
    return stopping;
  }

  onShutdown(log, stop, { budgetMs: KILL_STRAGGLERS_AFTER_MS + 1000, what: "shutting down the gateway's workers" });

  try {
    await listen(metricsServer, config.metrics.host, config.metrics.port).catch((error: Error) => {
      throw new Error(`${error.message} (METRICS_PORT)`);
    });
    for (const slot of slots) fork(slot);
    await allServing;
  } catch (error) {
    await stop();
    throw error;
  }
  const metricsUrl = `http://${config.metrics.host === "0.0.0.0" ? "localhost" : config.metrics.host}:${(metricsServer.address() as AddressInfo).port}`;
  log.info({ workers: config.workers, url: `${url}/graphql`, metrics: `${metricsUrl}/metrics` }, "gateway workers listening");
}
