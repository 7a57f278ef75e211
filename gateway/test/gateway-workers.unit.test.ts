import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { testContextKeys } from "@kombify/testkit";
import { parseGatewayConfig } from "../src/config.js";
import { RestartBackoff } from "../src/cluster/restart-backoff.js";
import { AudienceCounts, ConnectionQuotas } from "../src/subscriptions/limits/connection-quotas.js";
import { clusterGatewayMetrics, type WorkerMetrics } from "../src/http/gateway-metrics.js";

describe("gateway workers", () => {
  const base = async () => ({ NODE_ENV: "development", DATABASE_URL: "postgres://postgres@127.0.0.1:5432/x", CONTEXT_SIGNING_KEY: (await testContextKeys()).signingKey });
  const production = { NODE_ENV: "production", OIDC_ISSUER: "https://auth.example.com", OIDC_AUDIENCE: "kombify", PLATFORM_ORG_ID: "platform" };

  it("runs one process in development and tests, every available core in production, or GATEWAY_WORKERS", async () => {
    const env = await base();
    expect(parseGatewayConfig(env).workers).toBe(1);
    expect(parseGatewayConfig({ ...env, ...production, NODE_ENV: "test" }).workers).toBe(1);
    expect(parseGatewayConfig({ ...env, ...production }).workers).toBe(availableParallelism());
    expect(parseGatewayConfig({ ...env, ...production, GATEWAY_WORKERS: "1" }).workers).toBe(1);
    expect(parseGatewayConfig({ ...env, GATEWAY_WORKERS: "3" }).workers).toBe(3);
    // An empty value is an unset one (as compose passes `${GATEWAY_WORKERS:-}`).
    expect(parseGatewayConfig({ ...env, GATEWAY_WORKERS: "" }).workers).toBe(1);
    for (const bad of ["0", "-1", "two", "1.5", "257"]) expect(() => parseGatewayConfig({ ...env, GATEWAY_WORKERS: bad })).toThrow(/GATEWAY_WORKERS/);
  });

  it("counts in the primary what the workers must share: requests per minute without Redis, tenants' connections and subscriptions", async () => {
    const env = await base();
    const one = parseGatewayConfig(env);
    expect([one.rateLimits.countedByPrimary, one.webSocket.tenantQuotasInPrimary]).toEqual([false, false]);
    const two = parseGatewayConfig({ ...env, GATEWAY_WORKERS: "2" });
    expect([two.rateLimits.countedByPrimary, two.webSocket.tenantQuotasInPrimary]).toEqual([true, true]);
    const withRedis = parseGatewayConfig({ ...env, GATEWAY_WORKERS: "2", REDIS_URL: "redis://127.0.0.1:6379" });
    expect([withRedis.rateLimits.countedByPrimary, withRedis.webSocket.tenantQuotasInPrimary]).toEqual([false, true]);
  });

  it("waits longer before each replacement of a worker that keeps dying, up to a ceiling, and starts over after a stable run", () => {
    const backoff = new RestartBackoff({ firstDelayMs: 250, maxDelayMs: 4000, stableAfterMs: 60_000 });
    expect([1, 2, 3, 4, 5, 6].map(() => backoff.delayAfterDeath(1, 1000))).toEqual([250, 500, 1000, 2000, 4000, 4000]);
    // Slots are counted apart: another slot's first death waits the least.
    expect(backoff.delayAfterDeath(2, 1000)).toBe(250);
    expect(backoff.delayAfterDeath(1, 120_000)).toBe(250);
    expect(backoff.delayAfterDeath(1, 1000)).toBe(500);
  });

  it("holds an audience to its limits across every worker, and gives back a dead worker's share", () => {
    const counts = new AudienceCounts({ maxConnectionsPerTenant: 3, maxSubscriptionsPerTenant: 2, maxSubscriptionsPerConnection: 100 });
    expect([counts.admitConnection("tenant:a", 1), counts.admitConnection("tenant:a", 2), counts.admitConnection("tenant:a", 2)]).toEqual([true, true, true]);
    expect(counts.admitConnection("tenant:a", 1)).toBe(false);
    expect(counts.admitConnection("tenant:b", 1)).toBe(true);
    expect([counts.admitSubscription("tenant:a", 1), counts.admitSubscription("tenant:a", 2), counts.admitSubscription("tenant:a", 2)]).toEqual([true, true, false]);
    // A release the worker never took changes nothing (a late or repeated notice).
    counts.releaseConnection("tenant:a", 3);
    expect(counts.admitConnection("tenant:a", 3)).toBe(false);
    // Worker 2 exits: its two connections and its subscription are free again.
    counts.forgetHolder(2);
    expect([counts.admitConnection("tenant:a", 1), counts.admitConnection("tenant:a", 1), counts.admitConnection("tenant:a", 1)]).toEqual([true, true, false]);
    expect([counts.admitSubscription("tenant:a", 1), counts.admitSubscription("tenant:a", 1)]).toEqual([true, false]);
  });

  it("answers the in-process quotas at once, as a single gateway always did", () => {
    const quotas = new ConnectionQuotas({ maxConnectionsPerTenant: 1, maxSubscriptionsPerTenant: 2, maxSubscriptionsPerConnection: 1 });
    expect([quotas.admitConnection("tenant:a"), quotas.admitConnection("tenant:a")]).toEqual([true, false]);
    const connection = { audience: "tenant:a", subscriptions: 0 };
    const first = quotas.reserveSubscription(connection, "tenant:a");
    expect("release" in first).toBe(true);
    expect(quotas.reserveSubscription(connection, "tenant:a")).toEqual({ refusal: "At most 1 subscriptions may run on one connection.", code: "RATE_LIMITED" });
    const other = { audience: "tenant:a", subscriptions: 0 };
    expect("release" in quotas.reserveSubscription(other, "tenant:a")).toBe(true);
    expect(quotas.reserveSubscription({ audience: "tenant:a", subscriptions: 0 }, "tenant:a")).toEqual({ refusal: "Your tenant has reached 2 open subscriptions.", code: "RATE_LIMITED" });
    if ("release" in first) {
      first.release();
      first.release();
    }
    expect(connection.subscriptions).toBe(0);
    expect("release" in quotas.reserveSubscription({ audience: "tenant:a", subscriptions: 0 }, "tenant:a")).toBe(true);
  });

  it("sums the workers' /metrics.json and the primary's process, and shows each as it is", () => {
    const reading = (worker: number, connections: number, rss: number, heap: number | null): WorkerMetrics => ({
      worker,
      pid: 100 + worker,
      subscriptions: { connections, bufferedBytes: 10, subscribers: connections * 2, groups: 1, upstream: 1, eventFetches: { entries: 1, chars: 100, hits: 3, misses: 1 }, events: { received: 5, delivered: 7 } },
      process: { rssBytes: rss, heapUsedBytes: rss / 2, heapAfterGcBytes: heap, cpuUserMicros: 1000, cpuSystemMicros: 100, uptimeSeconds: 30 },
    });
    const workers = [reading(1, 2, 200, 50), reading(2, 3, 300, null)];
    const primary = { pid: 99, rssBytes: 50, heapUsedBytes: 10, heapAfterGcBytes: null, cpuUserMicros: 10, cpuSystemMicros: 1, uptimeSeconds: 40 };
    const summed = clusterGatewayMetrics(workers, primary);
    expect(summed.subscriptions).toEqual({ connections: 5, bufferedBytes: 20, subscribers: 10, groups: 2, upstream: 2, eventFetches: { entries: 2, chars: 200, hits: 6, misses: 2 }, events: { received: 10, delivered: 14 } });
    expect(summed.process).toEqual({ rssBytes: 550, heapUsedBytes: 260, heapAfterGcBytes: 50, cpuUserMicros: 2010, cpuSystemMicros: 201, uptimeSeconds: 40 });
    expect(summed.workers).toBe(workers);
    expect(summed.primary).toBe(primary);
  });
});
