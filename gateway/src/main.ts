import { configOrExit, loadDotEnv } from "@kombify/service-core/config";
import { createLogger } from "@kombify/service-core/logging";
import { onShutdown } from "@kombify/service-core/server";
import { parseGatewayConfig } from "./config.js";
import { startGateway } from "./gateway-server.js";

loadDotEnv();
const config = configOrExit(() => parseGatewayConfig());
const log = createLogger("gateway", config.logLevel);
// @apollo/gateway has no option for its usage metrics to Apollo (nor does @apollo/server, which sends none without
// APOLLO_KEY): the ApolloGateway constructor reads APOLLO_TELEMETRY_DISABLED from the process environment. This
// entry point is the edge that owns the environment, so it writes the parsed setting (off unless an operator opts
// in) here, before startGateway constructs the gateway; the gateway itself only checks it (apolloTelemetryWouldBeSent).
process.env.APOLLO_TELEMETRY_DISABLED = String(config.apolloTelemetryDisabled);
try {
  const gateway = await startGateway(config, log);
  onShutdown(log, () => gateway.stop());
} catch (error) {
  log.fatal({ err: error }, `gateway could not start: ${(error as Error).message}`);
  process.exit(1);
}
