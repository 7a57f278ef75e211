import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import type { SignedInCaller } from "@kombify/service-core";
import { startBenchEnvironment, type BenchEnvironment } from "./bench-environment.js";
import { kb, mb, quantile, table } from "./stats.js";

export interface SubscriptionsBenchOptions {
  subscribers: number[];
  durationSeconds: number;
  jobs: number;
  /** Job updates written to PocketBase per second, spread over the jobs. */
  rate: number;
  /** Subscriptions per WebSocket connection (a dashboard tab has one; a partner script may have many). */
  perConnection: number;
  /** `gateway` through the gateway, `direct` straight on the stack subgraph (the floor). */
  targets: ("gateway" | "direct")[];
}

interface GatewayMetrics {
  subscriptions: { connections: number; subscribers: number; groups: number; upstream: number };
  process: { rssBytes: number; heapUsedBytes: number; cpuUserMicros: number; cpuSystemMicros: number };
}

const GATEWAY_QUERY = "subscription($jobId: ID) { jobUpdated(jobId: $jobId) { id status progress message stack { name stackKit { name tier } } } }";
const DIRECT_QUERY = "subscription($jobId: ID) { jobUpdated(jobId: $jobId) { id status progress message stack { name stackKit { id } } } }";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * N graphql-ws subscribers through the gateway, spread over many jobs, while job updates are written to
 * PocketBase at a steady rate; then the same subscribers straight on the stack subgraph, the floor. Latency
 * is measured from the write to the client, both clocks being this process's.
 */
export async function runSubscriptionsBench(options: SubscriptionsBenchOptions): Promise<void> {
  const env = await startBenchEnvironment({
    JOB_RUNNER_ENABLED: "false",
    WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: String(Math.max(100, options.perConnection)),
    WS_MAX_SUBSCRIPTIONS_PER_TENANT: "1000000",
    WS_MAX_CONNECTIONS_PER_TENANT: "1000000",
    WS_BUFFER_PER_SUBSCRIBER: "100000",
  });
  try {
    const { token, caller, jobIds, jobsCollection } = await prepareTenant(env, options.jobs);
    const rows: Record<string, string | number>[] = [];
    for (const subscribers of options.subscribers) {
      for (const target of options.targets) {
        const result = await measure(env, target, subscribers, { ...options, token, caller, jobIds, jobsCollection });
        rows.push(result);
        process.stdout.write(`${JSON.stringify(result)}\n`);
      }
      if (options.targets.length < 2) continue;
      const [viaGateway, direct] = rows.slice(-2) as [Record<string, number>, Record<string, number>];
      rows.push({
        target: "ratio g/d",
        subscribers,
        "events/s": (viaGateway["events/s"]! / direct["events/s"]!).toFixed(2),
        delivered: "",
        "p50 ms": (viaGateway["p50 ms"]! / Math.max(1, direct["p50 ms"]!)).toFixed(2),
        "p99 ms": (viaGateway["p99 ms"]! / Math.max(1, direct["p99 ms"]!)).toFixed(2),
        "write p50 ms": "",
        "writes/s": "",
        "gateway cpu %": "",
        "clients cpu %": "",
        "gateway rss": "",
        "heap/subscriber": "",
        "heap drift": "",
        upstream: "",
      });
    }
    process.stdout.write(`\n${table(rows)}\n`);
  } finally {
    await env.stop();
  }
}

async function prepareTenant(env: BenchEnvironment, jobCount: number) {
  const orgId = `bench-org-${Date.now()}`;
  const token = await env.issuer.mint({ sub: "bench-user", orgId, roles: ["tenant:owner"], expiresIn: "12h" });
  const call = async (query: string) => {
    const response = await fetch(`${env.gatewayUrl}/graphql`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify({ query }) });
    const body = (await response.json()) as { data: any; errors?: unknown[] };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };
  const { createTenant } = await call('mutation { createTenant(name: "Bench", slug: "bench") { id slug } }');
  const { createStack } = await call('mutation { createStack(name: "bench", stackKitId: "media-center", nodes: [{ hostname: "n1", address: "10.0.0.1" }]) { id } }');
  const jobsCollection = `jobs_${createTenant.slug}`;
  const jobIds: string[] = [];
  for (let i = 0; i < jobCount; i++) {
    jobIds.push((await env.pb.collection(jobsCollection).create({ stack: createStack.id, kind: "DEPLOY", status: "RUNNING", progress: 0, logs: [] })).id);
  }
  const caller: SignedInCaller = { kind: "user", userId: "bench-user", email: null, name: null, orgId, orgName: null, roles: ["tenant:owner"], tenant: { id: createTenant.id, slug: createTenant.slug, plan: "FREE" } };
  return { token, caller, jobIds, jobsCollection };
}

async function gatewayMetrics(env: BenchEnvironment): Promise<GatewayMetrics> {
  return (await (await fetch(`${env.gatewayUrl}/metrics`)).json()) as GatewayMetrics;
}

async function measure(
  env: BenchEnvironment,
  target: "gateway" | "direct",
  subscribers: number,
  context: SubscriptionsBenchOptions & { token: string; caller: SignedInCaller; jobIds: string[]; jobsCollection: string },
): Promise<Record<string, string | number>> {
  global.gc?.();
  const before = await gatewayMetrics(env);
  const latencies: number[] = [];
  let received = 0;
  let connected = 0;
  const clients: Client[] = [];
  const connections = Math.ceil(subscribers / context.perConnection);
  const url = target === "gateway" ? `${env.gatewayUrl.replace("http", "ws")}/graphql` : `${env.stackUrl.replace("http", "ws")}/graphql`;
  const directContext = target === "direct" ? await env.signer.sign(context.caller, "bench", "stack") : null;
  for (let c = 0; c < connections; c++) {
    const client = createClient({
      url,
      webSocketImpl: WebSocket,
      connectionParams: target === "gateway" ? { authorization: `Bearer ${context.token}` } : {},
      retryAttempts: 0,
      on: { connected: () => (connected += 1) },
    });
    clients.push(client);
    for (let s = 0; s < context.perConnection && c * context.perConnection + s < subscribers; s++) {
      const jobId = context.jobIds[(c * context.perConnection + s) % context.jobIds.length];
      client.subscribe(
        { query: target === "gateway" ? GATEWAY_QUERY : DIRECT_QUERY, variables: { jobId }, ...(directContext ? { extensions: { kombifyContext: directContext } } : {}) },
        {
          next: (event) => {
            received += 1;
            const sent = Number((event.data as { jobUpdated?: { message?: string } } | undefined)?.jobUpdated?.message);
            if (sent) latencies.push(Date.now() - sent);
          },
          error: () => {},
          complete: () => {},
        },
      );
    }
    if (c % 50 === 49) await sleep(20);
  }
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (target === "gateway" ? (await gatewayMetrics(env)).subscriptions.subscribers >= subscribers : connected >= connections) break;
    await sleep(200);
  }
  await sleep(1500);
  global.gc?.();
  const subscribed = await gatewayMetrics(env);

  // The writer: `rate` updates per second, round-robin over the jobs, each stamped with its send time.
  const samples: GatewayMetrics[] = [subscribed];
  const sampler = setInterval(() => void gatewayMetrics(env).then((m) => samples.push(m)), 2000);
  let written = 0;
  let inFlight = 0;
  const writeTimes: number[] = [];
  const clientCpuBefore = process.cpuUsage();
  const started = Date.now();
  const end = started + context.durationSeconds * 1000;
  received = 0;
  latencies.length = 0;
  while (Date.now() < end) {
    const due = Math.floor(((Date.now() - started) / 1000) * context.rate);
    while (written < due && inFlight < 64) {
      const jobId = context.jobIds[written % context.jobIds.length]!;
      written += 1;
      inFlight += 1;
      const writeStarted = Date.now();
      void env.pb
        .collection(context.jobsCollection)
        .update(jobId, { message: String(Date.now()), progress: (written % 1000) / 1000 })
        .then(() => writeTimes.push(Date.now() - writeStarted))
        .catch(() => {})
        .finally(() => (inFlight -= 1));
    }
    await sleep(5);
  }
  const elapsed = (Date.now() - started) / 1000;
  const clientCpu = process.cpuUsage(clientCpuBefore);
  await sleep(2000);
  clearInterval(sampler);
  const after = await gatewayMetrics(env);
  const expected = written * (subscribers / context.jobIds.length);
  const cpuMicros = after.process.cpuUserMicros + after.process.cpuSystemMicros - (subscribed.process.cpuUserMicros + subscribed.process.cpuSystemMicros);
  const heaps = samples.map((sample) => sample.process.heapUsedBytes);
  const row = {
    target,
    subscribers,
    "events/s": Math.round(received / elapsed),
    delivered: `${((received / Math.max(1, expected)) * 100).toFixed(1)}%`,
    "p50 ms": quantile(latencies, 0.5),
    "p99 ms": quantile(latencies, 0.99),
    "write p50 ms": quantile(writeTimes, 0.5),
    "writes/s": Math.round(writeTimes.length / elapsed),
    "gateway cpu %": target === "gateway" ? Math.round((cpuMicros / 1e6 / (elapsed + 2)) * 100) : "-",
    "clients cpu %": Math.round(((clientCpu.user + clientCpu.system) / 1e6 / elapsed) * 100),
    "gateway rss": target === "gateway" ? mb(subscribed.process.rssBytes) : "-",
    "heap/subscriber": target === "gateway" ? kb((subscribed.process.heapUsedBytes - before.process.heapUsedBytes) / subscribers) : "-",
    "heap drift": target === "gateway" ? mb(heaps.at(-1)! - heaps[0]!) : "-",
    upstream: target === "gateway" ? subscribed.subscriptions.upstream : "-",
  };
  await Promise.all(clients.map((client) => client.dispose()));
  await sleep(1000);
  // What the gateway still holds once this phase's clients have left (should be nothing).
  process.stdout.write(`after ${target} ${subscribers}: ${JSON.stringify((await gatewayMetrics(env)).subscriptions)}\n`);
  return row;
}
