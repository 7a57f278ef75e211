// The HTTP/WebSocket server a subgraph answers on, and process shutdown. The subgraph runtime (its stores,
// PostgreSQL and PocketBase, catalogs and `runSubgraphMain`) loads the PocketBase SDK and type-graphql, which the
// gateway must not, so it has its own entry: `@kombify/service-core/server/subgraph-runtime`.
export { listen, runReadinessChecks, startSubgraphServer, type ReadinessChecks, type RouteHandler, type RunningServer, type SubgraphServerOptions } from "./subgraph-server.js";
export { DRAIN_GRACE_MS, onShutdown, SHUTDOWN_BUDGET_MS } from "./shutdown.js";
export { RejectedContexts, type ContextMetrics } from "./rejected-contexts.js";
export { gatewayOnlyError, gatewayOnlyField } from "./gateway-only-operations.js";
