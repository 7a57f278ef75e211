export { parseGatewayConfig, type GatewayConfig } from "./config.js";
export { startGateway, type RunningGateway } from "./gateway-server.js";
