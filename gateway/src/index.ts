export { parseGatewayConfig, type GatewayConfig } from "./config.js";
export { startGateway, type RunningGateway } from "./gateway-server.js";
export type { GatewayMetrics } from "./http/gateway-metrics.js";
