import { configOrExit, createLogger, loadDotEnv, onShutdown } from "@kombify/service-core";
import { parseGatewayConfig } from "./config.js";
import { startGateway } from "./gateway-server.js";

loadDotEnv();
const config = configOrExit(() => parseGatewayConfig());
const log = createLogger("gateway", config.logLevel);
try {
  const gateway = await startGateway(config, log);
  onShutdown(log, () => gateway.stop());
} catch (error) {
  log.fatal({ err: error }, `gateway could not start: ${(error as Error).message}`);
  process.exit(1);
}
