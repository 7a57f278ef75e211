import { execFileSync } from "node:child_process";
import { Agent, request } from "node:http";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CreateTenantDocument, KombifyClient } from "@kombify/client";
import type { GatewayMetrics } from "@kombify/gateway";
import type { Logger } from "@kombify/service-core/logging";
import { inProcessCounter, redisCounter } from "../../gateway/src/rate-limits/request-counters.js";
import { startBenchEnvironment } from "./bench-environment.js";
import { quantile, table } from "./stats.js";

export interface RateLimitsBenchOptions {
  /** Seconds of load per variant per round (short slices, so the noise of a shared machine falls on every variant alike). */
  durationSeconds: number;
  /** Rounds; each runs every variant once, in a rotating order (A B C, B C A, C A B, …). */
  rounds: number;
  /** Concurrent keep-alive connections; one table block per count. */
  connections: number[];
  /** The Redis the `redis` variant counts in (keys under a prefix of this run's; they expire after a minute). */
  redisUrl: string;
}

const PLANS = fileURLToPath(new URL("../../config/plans.json", import.meta.url));
/** A small operation: the caller's tenant's name (the gateway, one fetch to the tenant subgraph). */
const QUERY = JSON.stringify({ query: "query Small { myTenant { name } }" });
const VARIANTS = ["off", "in-process", "redis"] as const;
type Variant = (typeof VARIANTS)[number];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values: number[]) => quantile([...values], 0.5);

/**
 * What the requests-per-minute limiter costs: the same small query through three gateway processes over the same
 * subgraphs, limits off (RATE_LIMIT_ENABLED=false), counted in the process, and counted in Redis. Every request is
 * counted and none is refused (a plans file with budgets no run reaches), so the difference is the counting itself.
 * Each gateway is pinned to the last core, everything else (subgraphs, this load generator) to the first. The
 * variants take turns in short slices, round after round; each round's p50 and req/s of a variant are divided by
 * off's in the same round, and the table shows the median of those paired ratios beside the pooled percentiles.
 * Last, the counter alone: one key counted over and over, in the process and in Redis, in this process.
 */
export async function runRateLimitsBench(options: RateLimitsBenchOptions): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "kombify-bench-limits-"));
  const catalog = JSON.parse(readFileSync(PLANS, "utf8")) as { plans: { limits: { requestsPerMinute: number } }[] };
  for (const plan of catalog.plans) plan.limits.requestsPerMinute = 1_000_000_000;
  const plansFile = join(dir, "plans.json");
  writeFileSync(plansFile, JSON.stringify(catalog));
  const prefix = `kombify-bench:${Date.now()}`;

  const env = await startBenchEnvironment({ RATE_LIMIT_ENABLED: "false", JOB_RUNNER_ENABLED: "false" });
  try {
    const pinned = pinToCores(env.services.map((service) => service.child.pid!));
    const common = { PLANS_FILE: plansFile, RATE_LIMIT_ANONYMOUS_PER_MINUTE: "1000000000" };
    const gateways = {
      off: await env.startGateway({ ...common, RATE_LIMIT_ENABLED: "false" }, { cpu: pinned.gatewayCpu }),
      "in-process": await env.startGateway({ ...common, RATE_LIMIT_ENABLED: "true" }, { cpu: pinned.gatewayCpu }),
      redis: await env.startGateway({ ...common, RATE_LIMIT_ENABLED: "true", REDIS_URL: options.redisUrl, RATE_LIMIT_REDIS_PREFIX: prefix }, { cpu: pinned.gatewayCpu }),
    } satisfies Record<Variant, unknown>;

    const token = await env.issuer.mint({ sub: "bench-user", orgId: `bench-org-${Date.now()}`, roles: ["tenant:owner"], expiresIn: "12h" });
    await new KombifyClient({ url: `${env.gatewayUrl}/graphql`, token }).request(CreateTenantDocument, { name: "Bench", slug: "bench" });

    const rows: Record<string, string | number>[] = [];
    let offP50AtOne: number | undefined;
    for (const connections of options.connections) {
      const samples = new Map<Variant, Sample[]>(VARIANTS.map((variant) => [variant, []]));
      for (const variant of VARIANTS) await load(gateways[variant].url, token, connections, 2); // warm-up
      for (let round = 0; round < options.rounds; round++) {
        for (let turn = 0; turn < VARIANTS.length; turn++) {
          const variant = VARIANTS[(round + turn) % VARIANTS.length]!;
          const gateway = gateways[variant];
          const before = await gatewayCpuMicros(gateway.metricsUrl);
          const sample = await load(gateway.url, token, connections, options.durationSeconds);
          sample.cpuMicros = (await gatewayCpuMicros(gateway.metricsUrl)) - before;
          samples.get(variant)!.push(sample);
          await sleep(200);
        }
        const line = Object.fromEntries(VARIANTS.map((variant) => [variant, `${Math.round(samples.get(variant)!.at(-1)!.rps)} req/s, p50 ${samples.get(variant)!.at(-1)!.p50.toFixed(2)} ms`]));
        process.stdout.write(`${JSON.stringify({ connections, round: round + 1, ...line })}\n`);
      }
      const off = samples.get("off")!;
      for (const variant of VARIANTS) {
        const mine = samples.get(variant)!;
        const pooled = mine.flatMap((sample) => sample.latencies);
        const requests = mine.reduce((sum, sample) => sum + sample.latencies.length, 0);
        const paired = (pick: (sample: Sample) => number) => median(mine.map((sample, round) => pick(sample) / pick(off[round]!))).toFixed(3);
        const p50 = quantile(pooled, 0.5);
        if (connections === 1 && variant === "off") offP50AtOne = p50;
        rows.push({
          connections,
          limits: variant,
          "req/s": Math.round(median(mine.map((sample) => sample.rps))),
          "p50 ms": p50.toFixed(2),
          "p99 ms": quantile(pooled, 0.99).toFixed(2),
          "gateway CPU µs/req": Math.round(mine.reduce((sum, sample) => sum + sample.cpuMicros, 0) / Math.max(1, requests)),
          "p50 ratio": paired((sample) => sample.p50),
          "p99 ratio": paired((sample) => sample.p99),
          "req/s ratio": paired((sample) => sample.rps),
          "non-200": mine.reduce((sum, sample) => sum + sample.failed, 0),
        });
      }
    }
    process.stdout.write(`\n${table(rows)}\n`);
    process.stdout.write(
      `\n${options.rounds} rounds of ${options.durationSeconds} s per variant; ratios are medians of each round's variant / off; gateways pinned to CPU ${pinned.gatewayCpu}, ` +
        `subgraphs and load generator to CPU ${pinned.otherCpu}${pinned.pinned ? "" : " (not pinned: taskset missing or one core)"}; target: the limiter adds under 5 % at p50 (p50 ratio < 1.05)\n`,
    );

    const counters = await counterAlone(options.redisUrl, `${prefix}:alone`);
    process.stdout.write(
      `\n${table(counters.map((row) => ({ ...row, "share of off's p50 (1 connection)": offP50AtOne ? `${((row.p50Micros / 1000 / offP50AtOne) * 100).toFixed(1)} %` : "-" })))}\n`,
    );
  } finally {
    // The Redis variant's keys expire by themselves a minute after their last request.
    await env.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The counter alone, in this process: one key taken 20,000 times in the process, 5,000 times in Redis (one at a time). */
async function counterAlone(redisUrl: string, keyPrefix: string) {
  const log = { warn: () => {}, info: () => {}, error: () => {} } as unknown as Logger;
  const rows = [];
  // Each counter twice: near the budget's limit (every count waits for its store) and far from it (a Redis counter
  // answers from its estimate and counts in the background).
  for (const [store, counter, times] of [
    ["in-process", inProcessCounter(), 20_000],
    ["redis", redisCounter({ url: redisUrl, keyPrefix }, log), 5000],
  ] as const) {
    // Redis: wait for the connection (a loop of awaits on the insurance's answers alone would never let it happen).
    for (let waited = 0; counter.degraded && waited < 5000; waited += 50) await sleep(50);
    for (const [where, limit] of [["near the limit", 1], ["far from it", 1e9]] as const) {
      for (let i = 0; i < 200; i++) await counter.take(`warm-up-${limit}`, limit);
      const micros: number[] = [];
      for (let i = 0; i < times; i++) {
        const started = performance.now();
        await counter.take(`bench-${limit}`, limit);
        micros.push((performance.now() - started) * 1000);
      }
      rows.push({ counter: `${store}, ${where}`, calls: times, p50Micros: quantile(micros, 0.5), "p50 µs": quantile(micros, 0.5).toFixed(1), "p99 µs": quantile(micros, 0.99).toFixed(1), degraded: String(counter.degraded) });
    }
    counter.close();
  }
  return rows;
}

interface Sample {
  latencies: number[];
  failed: number;
  rps: number;
  p50: number;
  p99: number;
  cpuMicros: number;
}

/** `connections` keep-alive connections, each sending the query as soon as its last answer arrived, for `seconds`. */
async function load(gatewayUrl: string, token: string, connections: number, seconds: number): Promise<Sample> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const url = new URL(`${gatewayUrl}/graphql`);
  const headers = { "content-type": "application/json", "content-length": Buffer.byteLength(QUERY), authorization: `Bearer ${token}` };
  const latencies: number[] = [];
  let failed = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  const once = () =>
    new Promise<number>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: "POST", headers, agent }, (res) => {
        res.on("data", () => {});
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(QUERY);
    });
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) {
        const sent = performance.now();
        const status = await once().catch(() => 0);
        latencies.push(performance.now() - sent);
        if (status !== 200) failed += 1;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  return { latencies, failed, rps: latencies.length / elapsed, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), cpuMicros: 0 };
}

async function gatewayCpuMicros(metricsUrl: string): Promise<number> {
  const metrics = (await (await fetch(`${metricsUrl}.json`)).json()) as GatewayMetrics;
  return metrics.process.cpuUserMicros + metrics.process.cpuSystemMicros;
}

/** Subgraphs (and the launcher's own gateway, idle here) and this process on the first core, the measured gateways on the last. */
function pinToCores(pids: number[]): { gatewayCpu: number | undefined; otherCpu: number | undefined; pinned: boolean } {
  try {
    const cpus = execFileSync("nproc", { encoding: "utf8" }).trim();
    if (Number(cpus) < 2) return { gatewayCpu: undefined, otherCpu: undefined, pinned: false };
    const gatewayCpu = Number(cpus) - 1;
    for (const pid of [process.pid, ...pids]) execFileSync("taskset", ["-a", "-cp", "0", String(pid)], { stdio: "ignore" });
    return { gatewayCpu, otherCpu: 0, pinned: true };
  } catch {
    return { gatewayCpu: undefined, otherCpu: undefined, pinned: false };
  }
}
