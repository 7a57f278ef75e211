import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "@kombify/gateway";
import type { Logger } from "@kombify/service-core/logging";
import { freePort, postGraphQL, scrapePrometheus, startTestGateway, startTestSupergraph, uniqueSuffix, type TestSupergraph, plansFileWith } from "@kombify/testkit";
import { redisCounter } from "../src/rate-limits/request-counters.js";

/** The machine's Redis (CI's too): shared, so every key here has a prefix of its own and nothing else is touched. */
const SHARED_REDIS = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** A redis-server of this test's own, on `port`, keeping nothing on disk: it can be stopped and started again. */
async function startRedis(port: number): Promise<{ stop(): Promise<void> }> {
  const child: ChildProcess = spawn("/usr/bin/redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const probe = new Redis(port, "127.0.0.1", { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on("error", () => {});
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw new Error(`redis-server on port ${port} exited (${child.exitCode})`);
    try {
      await probe.connect();
      await probe.ping();
      break;
    } catch (error) {
      if (attempt > 100) throw error;
      probe.disconnect();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  probe.disconnect();
  return {
    async stop() {
      child.kill("SIGKILL");
      await exited;
    },
  };
}

const remainingOf = (header: string | null) => Number(/;r=(\d+);/.exec(header ?? "")?.[1] ?? Number.NaN);

describe("rate limits shared through Redis", () => {
  let graph: TestSupergraph;
  let dir: string;
  const prefix = `kombify-test:${uniqueSuffix()}`;
  const shared = new Redis(SHARED_REDIS, { lazyConnect: true });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kombify-rate-limits-redis-"));
    graph = await startTestSupergraph({
      gatewayEnv: { RATE_LIMIT_ENABLED: "true", REDIS_URL: SHARED_REDIS, RATE_LIMIT_REDIS_PREFIX: prefix, PLANS_FILE: plansFileWith(dir, { FREE: 10 }) },
    });
    await shared.connect();
  });
  afterAll(async () => {
    await graph?.stop();
    // Only this test's keys.
    const keys = await shared.keys(`${prefix}:*`).catch(() => []);
    if (keys.length > 0) await shared.del(...keys);
    shared.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  async function newTenant(): Promise<{ token: string; tenantId: string }> {
    const token = await graph.issuer.mint({ sub: `u-${uniqueSuffix()}`, orgId: `org-${uniqueSuffix()}`, roles: ["tenant:owner"] });
    const created = await graph.graphql(`mutation { createTenant(name: "Shared", slug: "rs-${uniqueSuffix()}") { id } }`, { token });
    expect(created.errors).toBeUndefined();
    return { token, tenantId: created.data.createTenant.id };
  }

  it("gives a tenant one budget across two gateway replicas over one Redis", async () => {
    const second = await startTestGateway(graph.issuer, graph.subgraphs, {
      RATE_LIMIT_ENABLED: "true",
      REDIS_URL: SHARED_REDIS,
      RATE_LIMIT_REDIS_PREFIX: prefix,
      PLANS_FILE: plansFileWith(dir, { FREE: 10 }),
    });
    try {
      const { token, tenantId } = await newTenant();
      const urls = [graph.url, second.url];
      const ask = (i: number) => postGraphQL(`${urls[i % 2]}/graphql`, { query: "{ myTenant { name } }" }, { authorization: `Bearer ${token}` });
      const remaining = [];
      for (let i = 0; i < 10; i++) {
        const answer = await ask(i);
        expect(answer.status).toBe(200);
        remaining.push(remainingOf(answer.headers.get("ratelimit")));
      }
      // One counter: near the limit each replica's answers count down exactly from where the other left off (far
      // from it a replica may answer from its estimate, which lags the other's requests: never below the truth).
      expect(remaining.slice(5)).toEqual([4, 3, 2, 1, 0]);
      remaining.slice(0, 5).forEach((left, i) => expect(left).toBeGreaterThanOrEqual(9 - i));
      for (const i of [0, 1]) {
        const refused = await ask(i);
        expect(refused.status).toBe(429);
        expect(refused.errors?.[0]?.extensions).toMatchObject({ code: "RATE_LIMITED", retryAfter: expect.any(Number) });
      }
      expect(await shared.get(`${prefix}:tenant:${tenantId}`)).toBe("12");
      expect(await shared.pttl(`${prefix}:tenant:${tenantId}`)).toBeGreaterThan(0);
    } finally {
      await second.stop();
    }
  });

  describe("with its Redis stopped mid-test", () => {
    let port: number;
    let redis: { stop(): Promise<void> } | undefined;
    let gateway: RunningGateway;

    beforeAll(async () => {
      port = await freePort();
      redis = await startRedis(port);
      gateway = await startTestGateway(graph.issuer, graph.subgraphs, {
        RATE_LIMIT_ENABLED: "true",
        REDIS_URL: `redis://127.0.0.1:${port}`,
        RATE_LIMIT_REDIS_PREFIX: prefix,
        PLANS_FILE: plansFileWith(dir, { FREE: 5 }),
      });
    });
    afterAll(async () => {
      await gateway?.stop();
      await redis?.stop();
    });

    it("answers every request from the in-process insurance counter, still limiting, and shares again once Redis is back", async () => {
      const { token } = await newTenant();
      const ask = () => postGraphQL(`${gateway.url}/graphql`, { query: "{ myTenant { name } }" }, { authorization: `Bearer ${token}` });
      const degraded = async () => (await scrapePrometheus(`${gateway.metricsUrl}/metrics`)).value("kombify_gateway_rate_limit_degraded");
      for (const r of [4, 3]) expect(remainingOf((await ask()).headers.get("ratelimit"))).toBe(r);
      expect(await degraded()).toBe(0);

      await redis!.stop();
      redis = undefined;
      // Requests go on, answered by this process's own count (which starts afresh), and its limit still holds.
      const during = await Promise.all(Array.from({ length: 5 }, ask));
      expect(during.map((answer) => [answer.status, answer.errors])).toEqual(Array(5).fill([200, undefined]));
      expect(during.map((answer) => remainingOf(answer.headers.get("ratelimit"))).sort()).toEqual([0, 1, 2, 3, 4]);
      const beyond = await ask();
      expect([beyond.status, beyond.errors?.[0]?.extensions?.code]).toEqual([429, "RATE_LIMITED"]);
      expect(await degraded()).toBe(1);

      // Back (empty: it kept nothing): ioredis reconnects by itself, and the count is Redis's again.
      redis = await startRedis(port);
      await expect.poll(degraded, { timeout: 20_000, interval: 200 }).toBe(0);
      expect(remainingOf((await ask()).headers.get("ratelimit"))).toBe(4);
    }, 60_000);
  });

  it("logs an outage once when it starts and once when it ends, never per request, and never fails a count", async () => {
    const lines: [string, string][] = [];
    const record = (level: string) => (_fields: unknown, message: string) => void lines.push([level, message]);
    const log = { warn: record("warn"), info: record("info"), error: record("error") } as unknown as Logger;
    const port = await freePort();
    // Nothing listens yet: a gateway starting while Redis is down counts in the process from its first request.
    const counter = redisCounter({ url: `redis://127.0.0.1:${port}`, keyPrefix: prefix }, log);
    try {
      // A budget of 1 is never far from its limit: every count waits for Redis (or its insurance), exactly.
      for (let i = 1; i <= 20; i++) expect((await counter.take("k", 1)).consumed).toBe(i);
      expect(counter.degraded).toBe(true);
      const redis = await startRedis(port);
      try {
        await expect.poll(() => counter.degraded, { timeout: 20_000, interval: 100 }).toBe(false);
        expect((await counter.take("k", 1)).consumed).toBe(1);
        await redis.stop();
        const counts = await Promise.all(Array.from({ length: 50 }, () => counter.take("k", 1)));
        expect(counts.map((count) => count.consumed).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => 21 + i));
      } finally {
        await redis.stop();
      }
      expect(lines.map(([level]) => level)).toEqual(["warn", "info", "warn"]);
    } finally {
      counter.close();
    }
  }, 60_000);
});
