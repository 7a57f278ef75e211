import type { Logger } from "@kombify/service-core/logging";
import { onShutdown } from "@kombify/service-core/server";
import type { GatewayConfig } from "../config.js";
import { startGateway } from "../gateway-server.js";
import { primaryChannel, WORKER_CALLS } from "./cluster-channel.js";
import type { WorkerReading } from "./cluster-metrics.js";

/**
 * One gateway process: the whole gateway (GATEWAY_WORKERS=1), or one of a cluster's workers. A worker leaves the
 * metrics listener to its primary, answers the primary's calls for its metrics, and says when it serves.
 */
export async function runGatewayProcess(config: GatewayConfig, log: Logger, options: { clusterWorker: boolean }): Promise<void> {
  const gateway = await startGateway(config, log, { metricsListener: !options.clusterWorker });
  onShutdown(log, () => gateway.stop());
  if (!options.clusterWorker) return;
  const primary = primaryChannel();
  primary.answer(WORKER_CALLS.metrics, (): Promise<WorkerReading> => gateway.readMetrics());
  primary.notify(WORKER_CALLS.ready, { url: gateway.url });
}
