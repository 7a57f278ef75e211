import { spawn, type ChildProcess } from "node:child_process";
import { request } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SUBGRAPHS, subgraphUrlVariable } from "@kombify/service-core/federation";
import {
  collect,
  freePort,
  plansFileWith,
  scrapePrometheus,
  startTestSupergraph,
  TEST_AUDIENCE,
  TEST_PLATFORM_ORG,
  testContextKeys,
  testDatabaseUrl,
  uniqueSuffix,
  wsClient,
  type TestSupergraph,
} from "@kombify/testkit";
import type { GatewayMetrics, WorkerMetrics } from "../src/http/gateway-metrics.js";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const MAIN = join(REPO_ROOT, "gateway/src/main.ts");
const SHARED_REDIS = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

type ClusterJson = GatewayMetrics & { workers: WorkerMetrics[]; primary: GatewayMetrics["process"] & { pid: number } };

interface ClusterGateway {
  url: string;
  metricsUrl: string;
  primary: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
  json(): Promise<ClusterJson>;
}

/** The real entry, gateway/src/main.ts, as its own process with GATEWAY_WORKERS=2 over the test supergraph's subgraphs. */
async function startClusterGateway(graph: TestSupergraph, env: Record<string, string>): Promise<ClusterGateway> {
  const [port, metricsPort] = [await freePort(), await freePort()];
  const keys = await testContextKeys();
  const primary = spawn(process.execPath, ["--import", "tsx", MAIN], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: "test",
      LOG_LEVEL: "warn",
      GATEWAY_WORKERS: "2",
      HOST: "127.0.0.1",
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      DATABASE_URL: await testDatabaseUrl(),
      CONTEXT_SIGNING_KEY: keys.signingKey,
      OIDC_ISSUER: graph.issuer.issuer,
      OIDC_AUDIENCE: TEST_AUDIENCE,
      PLATFORM_ORG_ID: TEST_PLATFORM_ORG,
      TENANT_CACHE_TTL_MS: "0",
      ...Object.fromEntries(SUBGRAPHS.map(({ name }) => [subgraphUrlVariable(name), `${graph.subgraphs[name].url}/graphql`])),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  primary.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  primary.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => primary.once("exit", (code, signal) => resolve({ code, signal })));
  const metricsUrl = `http://127.0.0.1:${metricsPort}`;
  const gateway: ClusterGateway = {
    url: `http://127.0.0.1:${port}`,
    metricsUrl,
    primary,
    exited,
    output: () => output,
    json: async () => (await (await fetch(`${metricsUrl}/metrics.json`)).json()) as ClusterJson,
  };
  // Up once the primary serves the metrics of both workers, each of which says when it serves.
  for (let attempt = 0; ; attempt++) {
    if (primary.exitCode !== null) throw new Error(`the gateway exited during start-up (${primary.exitCode}):\n${output}`);
    if (attempt > 1500) throw new Error(`the gateway did not start:\n${output}`);
    const workers = await gateway.json().then((json) => json.workers.length, () => 0);
    if (workers === 2) return gateway;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A POST on a connection of its own (no keep-alive): node:cluster hands each new connection to the next worker. */
function postOnNewConnection(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/graphql`, { method: "POST", agent: false, headers: { "content-type": "application/json", ...headers } }, (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: JSON.parse(text) }));
    });
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

const remainingOf = (header: unknown) => Number(/;r=(\d+);/.exec(String(header ?? ""))?.[1] ?? Number.NaN);
const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function stopGateway(gateway: ClusterGateway | undefined): Promise<void> {
  if (!gateway || gateway.primary.exitCode !== null || gateway.primary.signalCode !== null) return;
  gateway.primary.kill("SIGTERM");
  await gateway.exited;
}

const WATCH = `subscription Watch($stackId: ID) { jobUpdated(stackId: $stackId) { id status stack { name stackKit { name } } } }`;

describe("a gateway of two workers on one port (GATEWAY_WORKERS=2)", () => {
  let graph: TestSupergraph;
  let gateway: ClusterGateway;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kombify-gateway-workers-"));
    graph = await startTestSupergraph({ subgraphEnv: { DRY_RUN_STEP_DELAY_MS: "30" } });
    gateway = await startClusterGateway(graph, {
      RATE_LIMIT_ENABLED: "true",
      RATE_LIMIT_ANONYMOUS_PER_MINUTE: "100000",
      PLANS_FILE: plansFileWith(dir, { FREE: 10 }),
      WS_MAX_CONNECTIONS_PER_TENANT: "4",
      WS_MAX_SUBSCRIPTIONS_PER_TENANT: "4",
    });
  }, 240_000);
  afterAll(async () => {
    await stopGateway(gateway);
    await graph?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function tenantWithStack(): Promise<{ token: string; stackId: string }> {
    const token = await graph.issuer.mint({ sub: `w-${uniqueSuffix()}`, orgId: `org-w-${uniqueSuffix()}`, roles: ["tenant:owner"] });
    // Made through the in-process gateway, so that the budgets counted here start untouched.
    await graph.graphql(`mutation { createTenant(name: "Workers", slug: "w-${uniqueSuffix()}") { id } }`, { token });
    const stack = await graph.graphql('mutation { createStack(name: "w", stackKitId: "media-center", nodes: [{ hostname: "n1", address: "10.0.0.1" }]) { id } }', { token });
    expect(stack.errors).toBeUndefined();
    return { token, stackId: stack.data.createStack.id };
  }

  it("answers queries from both workers and sums their request counters in /metrics", async () => {
    const before = await scrapePrometheus(`${gateway.metricsUrl}/metrics`);
    const answers = [];
    for (let i = 0; i < 12; i++) answers.push(await postOnNewConnection(gateway.url, { query: "query WorkerProbe { plans { tier } }" }));
    expect(answers.map((answer) => [answer.status, answer.body.errors])).toEqual(Array(12).fill([200, undefined]));
    const after = await scrapePrometheus(`${gateway.metricsUrl}/metrics`);
    const served = (scrape: typeof after, worker: string) => scrape.value("kombify_gateway_worker_operations_total", { worker });
    const byWorker = ["1", "2"].map((worker) => served(after, worker) - served(before, worker));
    // Each new connection went to the next worker: both served, and /metrics counts every one of them once.
    expect(byWorker.every((count) => count > 0), `per worker: ${byWorker}`).toBe(true);
    expect(byWorker[0]! + byWorker[1]!).toBe(12);
    expect(after.value("kombify_graphql_requests_total", { operation: "WorkerProbe", code: "OK" })).toBe(12);
    expect(after.count("kombify_graphql_request_duration_seconds", { operation: "WorkerProbe", code: "OK" })).toBe(12);
    expect(after.value("kombify_gateway_workers")).toBe(2);
    // The process series are the whole gateway's: the primary's and both workers' resident memory together.
    const json = await gateway.json();
    expect(json.workers.map((worker) => worker.worker).sort()).toEqual([1, 2]);
    expect(json.process.rssBytes).toBe(json.primary.rssBytes + json.workers[0]!.process.rssBytes + json.workers[1]!.process.rssBytes);
    for (const path of ["/health", "/ready"]) expect((await fetch(`${gateway.url}${path}`)).status).toBe(200);
  });

  it("streams subscriptions from both workers, and holds a tenant to its connection and subscription limits across them", { timeout: 90_000 }, async () => {
    const { token, stackId } = await tenantWithStack();
    // One connection after another, so that each goes to the next worker.
    const clients = [];
    const streams = [];
    for (let i = 1; i <= 4; i++) {
      const client = wsClient(`${gateway.url}/graphql`, { authorization: `Bearer ${token}` });
      clients.push(client);
      streams.push(collect(client, WATCH, { stackId }));
      await expect.poll(async () => (await gateway.json()).subscriptions.subscribers, { timeout: 20_000 }).toBe(i);
    }
    const json = await gateway.json();
    expect(json.workers.map((worker) => worker.subscriptions.connections).sort()).toEqual([2, 2]);
    const scrape = await scrapePrometheus(`${gateway.metricsUrl}/metrics`);
    expect(scrape.value("kombify_gateway_websocket_connections")).toBe(4);
    expect(["1", "2"].map((worker) => scrape.value("kombify_gateway_worker_websocket_connections", { worker }))).toEqual([2, 2]);

    // WS_MAX_CONNECTIONS_PER_TENANT=4 is the gateway's, not each worker's (each holds two): a fifth is refused.
    const fifth = wsClient(`${gateway.url}/graphql`, { authorization: `Bearer ${token}` });
    const refused = await Promise.race([
      collect(fifth, WATCH, { stackId }).done.then(() => "completed", (event: { code?: number }) => event.code),
      new Promise((resolve) => setTimeout(() => resolve("still open after 5 s"), 5000)),
    ]);
    expect(refused).toBe(4429);
    // WS_MAX_SUBSCRIPTIONS_PER_TENANT=4 likewise: a fifth subscription on an open connection is refused alone.
    const beyond = collect(clients[0]!, WATCH, { stackId });
    await beyond.done;
    expect(beyond.events[0]?.errors?.[0]).toMatchObject({ message: "Your tenant has reached 4 open subscriptions.", extensions: { code: "RATE_LIMITED" } });

    const deployed = await postOnNewConnection(gateway.url, { query: `mutation { deployStack(id: "${stackId}") { id } }` }, { authorization: `Bearer ${token}` });
    expect(deployed.body.errors).toBeUndefined();
    for (const stream of streams) {
      const events = await stream.until((all) => all.some((event) => event.data?.jobUpdated.status === "SUCCEEDED"));
      expect(events.at(-1)!.data!.jobUpdated).toMatchObject({ id: deployed.body.data.deployStack.id, stack: { stackKit: { name: "Media Center" } } });
    }
    await Promise.all(clients.map((client) => client.dispose()));
    await fifth.dispose();
    // Closed connections give their places back: a new one is admitted again.
    await expect.poll(async () => (await gateway.json()).subscriptions.connections, { timeout: 15_000 }).toBe(0);
    const again = wsClient(`${gateway.url}/graphql`, { authorization: `Bearer ${token}` });
    const stream = collect(again, WATCH, { stackId });
    await expect.poll(async () => (await gateway.json()).subscriptions.subscribers, { timeout: 15_000 }).toBe(1);
    stream.unsubscribe();
    await again.dispose();
  });

  it("holds a tenant to its requests per minute across both workers, counted by the primary without Redis", async () => {
    const { token } = await tenantWithStack();
    const answers = [];
    for (let i = 0; i < 14; i++) answers.push(await postOnNewConnection(gateway.url, { query: "{ myTenant { name } }" }, { authorization: `Bearer ${token}` }));
    // FREE allows 10 a minute: exactly 10 ran, whichever worker answered; near the limit the count is exact.
    expect(answers.map((answer) => answer.status)).toEqual([...Array(10).fill(200), ...Array(4).fill(429)]);
    expect(answers.slice(5, 10).map((answer) => remainingOf(answer.headers.ratelimit))).toEqual([4, 3, 2, 1, 0]);
    expect(answers.at(-1)!.body.errors[0].extensions).toMatchObject({ code: "RATE_LIMITED", retryAfter: expect.any(Number) });
    const scrape = await scrapePrometheus(`${gateway.metricsUrl}/metrics`);
    expect(scrape.value("kombify_gateway_rate_limited_total", { policy: "free", transport: "http" })).toBe(4);
    expect(scrape.value("kombify_gateway_rate_limit_degraded")).toBe(0);

    // A burst of 30 at once, on as many connections spread over both workers: at most one more than the budget
    // (one answer per worker may come from its estimate while another worker's count is on its way).
    const burst = await tenantWithStack();
    const all = await Promise.all(Array.from({ length: 30 }, () => postOnNewConnection(gateway.url, { query: "{ myTenant { name } }" }, { authorization: `Bearer ${burst.token}` })));
    const admitted = all.filter((answer) => answer.status === 200).length;
    expect(admitted).toBeGreaterThanOrEqual(10);
    expect(admitted).toBeLessThanOrEqual(11);
    expect(all.filter((answer) => answer.status === 429)).toHaveLength(30 - admitted);
  });

  // A replacement starts like any gateway process (tsx, the supergraph, PostgreSQL): slow on a busy machine.
  it("replaces a worker that dies, keeps serving meanwhile, and keeps its counts in the sums", { timeout: 120_000 }, async () => {
    const before = await gateway.json();
    const beforeScrape = await scrapePrometheus(`${gateway.metricsUrl}/metrics`);
    const victim = before.workers.find((worker) => worker.worker === 1)!;
    process.kill(victim.pid, "SIGKILL");
    await expect.poll(async () => (await gateway.json()).workers.map((worker) => worker.worker), { timeout: 5000, interval: 20 }).toEqual([2]);
    // The other worker answers while the slot is empty.
    expect((await postOnNewConnection(gateway.url, { query: "query WorkerProbe { plans { tier } }" })).status).toBe(200);
    await expect
      .poll(async () => (await gateway.json()).workers.map((worker) => [worker.worker, worker.pid !== victim.pid]).sort(), { timeout: 100_000, interval: 200 })
      .toEqual([[1, true], [2, true]]);
    expect(isAlive(victim.pid)).toBe(false);
    const after = await scrapePrometheus(`${gateway.metricsUrl}/metrics`);
    expect(after.value("kombify_gateway_worker_restarts_total")).toBe(1);
    expect(after.value("kombify_gateway_workers")).toBe(2);
    // What the dead worker had counted (as last scraped) stays in the sums: the counter did not go down.
    expect(after.value("kombify_graphql_requests_total", { operation: "WorkerProbe", code: "OK" })).toBeGreaterThanOrEqual(beforeScrape.value("kombify_graphql_requests_total", { operation: "WorkerProbe", code: "OK" }) + 1);
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await postOnNewConnection(gateway.url, { query: "{ plans { tier } }" }));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    expect(gateway.output()).toContain("a gateway worker died: replacing it");
  });

  it("stops every worker, then itself, on SIGTERM", async () => {
    const pids = (await gateway.json()).workers.map((worker) => worker.pid);
    gateway.primary.kill("SIGTERM");
    const exit = await gateway.exited;
    expect(exit, gateway.output()).toEqual({ code: 0, signal: null });
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
  });
});

describe("a gateway of two workers with REDIS_URL", () => {
  let graph: TestSupergraph;
  let gateway: ClusterGateway;
  let dir: string;
  const prefix = `kombify-test:${uniqueSuffix()}`;
  const shared = new Redis(SHARED_REDIS, { lazyConnect: true });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kombify-gateway-workers-redis-"));
    graph = await startTestSupergraph();
    gateway = await startClusterGateway(graph, { RATE_LIMIT_ENABLED: "true", REDIS_URL: SHARED_REDIS, RATE_LIMIT_REDIS_PREFIX: prefix, PLANS_FILE: plansFileWith(dir, { FREE: 10 }) });
    await shared.connect();
  }, 240_000);
  afterAll(async () => {
    await stopGateway(gateway);
    await graph?.stop();
    const keys = await shared.keys(`${prefix}:*`).catch(() => []);
    if (keys.length > 0) await shared.del(...keys);
    shared.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it("holds a tenant to its requests per minute across both workers, counted in Redis", async () => {
    const token = await graph.issuer.mint({ sub: `r-${uniqueSuffix()}`, orgId: `org-r-${uniqueSuffix()}`, roles: ["tenant:owner"] });
    const created = await graph.graphql(`mutation { createTenant(name: "Redis workers", slug: "rw-${uniqueSuffix()}") { id } }`, { token });
    const tenantId = created.data.createTenant.id;
    const answers = [];
    for (let i = 0; i < 14; i++) answers.push(await postOnNewConnection(gateway.url, { query: "query WorkerProbe { myTenant { name } }" }, { authorization: `Bearer ${token}` }));
    expect(answers.map((answer) => answer.status)).toEqual([...Array(10).fill(200), ...Array(4).fill(429)]);
    expect(answers.slice(5, 10).map((answer) => remainingOf(answer.headers.ratelimit))).toEqual([4, 3, 2, 1, 0]);
    expect(await shared.get(`${prefix}:tenant:${tenantId}`)).toBe("14");
    // Both workers counted in Redis: each answered some of them.
    const scrape = await scrapePrometheus(`${gateway.metricsUrl}/metrics`);
    expect(["1", "2"].map((worker) => scrape.value("kombify_gateway_worker_operations_total", { worker }) > 0)).toEqual([true, true]);
  });
});
