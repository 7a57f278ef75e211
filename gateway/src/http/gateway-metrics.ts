import type { attachGraphQLWebSocket } from "../subscriptions/gateway-websocket.js";

type SubscriptionStats = ReturnType<ReturnType<typeof attachGraphQLWebSocket>["stats"]>;

/** What GET /metrics answers: the subscriptions' state, and the process's memory and CPU. */
export function gatewayMetrics(subscriptions: SubscriptionStats, heapAfterGcBytes: number | null) {
  const memory = process.memoryUsage();
  const cpu = process.cpuUsage();
  return {
    subscriptions,
    process: {
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      /** The heap just after the last full collection (null before the first): what the process really keeps. */
      heapAfterGcBytes,
      cpuUserMicros: cpu.user,
      cpuSystemMicros: cpu.system,
      uptimeSeconds: process.uptime(),
    },
  };
}

export type GatewayMetrics = ReturnType<typeof gatewayMetrics>;
