import cluster from "node:cluster";
import { configOrExit, loadDotEnv } from "@kombify/service-core/config";
import { createLogger } from "@kombify/service-core/logging";
import { parseGatewayConfig } from "./config.js";

loadDotEnv();
const config = configOrExit(() => parseGatewayConfig());
// A cluster's workers are told their slot (1 to GATEWAY_WORKERS) by the primary that forks them.
const slot = cluster.isWorker ? Number(process.env.GATEWAY_WORKER_SLOT) || cluster.worker!.id : null;
const log = slot === null ? createLogger("gateway", config.logLevel) : createLogger("gateway", config.logLevel).child({ worker: slot });
try {
  // Several workers: this process is their primary and does no request work, so it loads none of the gateway's
  // request path (about 120 MB it would keep for nothing). One: this process is the gateway, as it always was.
  if (config.workers > 1 && cluster.isPrimary) {
    const { runClusterPrimary } = await import("./cluster/cluster-primary.js");
    await runClusterPrimary(config, log);
  } else {
    const { runGatewayProcess } = await import("./cluster/gateway-process.js");
    await runGatewayProcess(config, log, { clusterWorker: cluster.isWorker });
  }
} catch (error) {
  log.fatal({ err: error }, `gateway could not start: ${(error as Error).message}`);
  process.exit(1);
}
