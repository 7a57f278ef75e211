import { monitorEventLoopDelay } from "node:perf_hooks";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { CreateStackDocument, CreateTenantDocument, documentText, JobUpdatedDocument, KombifyClient } from "@kombify/client";
import type { GatewayMetrics } from "@kombify/gateway";
import { operationHash } from "@kombify/service-core/tenant-context";
import type { SignedInCaller } from "@kombify/service-core/auth";
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
  /** Instead of the table: hold the largest subscriber count through the gateway this long, sampling its memory. */
  soakSeconds?: number;
}

/** The typed client's JobUpdated, as it sends it: a registered document (fields of three subgraphs per event). */
const GATEWAY_QUERY = documentText(JobUpdatedDocument);
/** The same selection as the stack subgraph itself serves it (the stack's kit is only a key there): the floor. */
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
    // Thousands of subscribe messages from one FREE tenant: requests per minute would refuse all but 100.
    RATE_LIMIT_ENABLED: "false",
    WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: String(Math.max(100, options.perConnection)),
    WS_MAX_SUBSCRIPTIONS_PER_TENANT: "1000000",
    WS_MAX_CONNECTIONS_PER_TENANT: "1000000",
    WS_BUFFER_PER_SUBSCRIBER: "100000",
  });
  try {
    const tenant = await prepareTenant(env, options.jobs);
    if (options.soakSeconds) {
      await soak(env, Math.max(...options.subscribers), options.soakSeconds, { ...options, ...tenant });
      return;
    }
    const rows: Record<string, string | number>[] = [];
    for (const subscribers of options.subscribers) {
      for (const target of options.targets) {
        const result = await measure(env, target, subscribers, { ...options, ...tenant });
        rows.push(result);
        process.stdout.write(`${JSON.stringify(result)}\n`);
      }
      if (options.targets.length < 2) continue;
      const [viaGateway, direct] = rows.slice(-2) as [Record<string, number>, Record<string, number>];
      const blank = Object.fromEntries(Object.keys(viaGateway).map((column) => [column, ""]));
      rows.push({
        ...blank,
        target: "ratio g/d",
        subscribers,
        "events/s": (viaGateway["events/s"]! / direct["events/s"]!).toFixed(2),
        "p50 ms": (viaGateway["p50 ms"]! / Math.max(1, direct["p50 ms"]!)).toFixed(2),
        "p99 ms": (viaGateway["p99 ms"]! / Math.max(1, direct["p99 ms"]!)).toFixed(2),
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
  const client = new KombifyClient({ url: `${env.gatewayUrl}/graphql`, token });
  const { createTenant } = await client.request(CreateTenantDocument, { name: "Bench", slug: "bench" });
  const { createStack } = await client.request(CreateStackDocument, { name: "bench", stackKitId: "media-center", nodes: [{ hostname: "n1", address: "10.0.0.1" }] });
  const jobsCollection = `jobs_${createTenant.slug}`;
  const jobIds: string[] = [];
  for (let i = 0; i < jobCount; i++) {
    jobIds.push((await env.pb.collection(jobsCollection).create({ stack: createStack.id, kind: "DEPLOY", status: "RUNNING", progress: 0, logs: [] })).id);
  }
  const caller: SignedInCaller = { kind: "user", userId: "bench-user", email: null, name: null, orgId, orgName: null, roles: ["tenant:owner"], tenant: { id: createTenant.id, slug: createTenant.slug, plan: "FREE" } };
  // What a subscriber straight on the stack subgraph sends, signed as the gateway would sign it (for that operation);
  // signed again before each use (freshDirectContext): a context lives 60 s, a run longer.
  const directContext = await env.signer.sign(caller, "bench", "stack", operationHash(DIRECT_QUERY));
  return { token, caller, jobIds, jobsCollection, directContext };
}

async function gatewayMetrics(env: BenchEnvironment): Promise<GatewayMetrics> {
  // The JSON view next to the Prometheus one (`metricsUrl` is GET /metrics).
  return (await (await fetch(`${env.metricsUrl}.json`)).json()) as GatewayMetrics;
}

type BenchContext = SubscriptionsBenchOptions & Awaited<ReturnType<typeof prepareTenant>>;

/** A context for the next direct subscribers: the one made at start would have expired by the later phases. */
async function freshDirectContext(env: BenchEnvironment, context: BenchContext): Promise<void> {
  context.directContext = await env.signer.sign(context.caller, "bench", "stack", operationHash(DIRECT_QUERY));
}

/** N subscribers on `perConnection`-subscription connections, spread over the jobs; `onEvent` gets each event's write time. */
async function connectSubscribers(env: BenchEnvironment, target: "gateway" | "direct", subscribers: number, context: BenchContext, onEvent: (writtenAt: number) => void) {
  if (target === "direct") await freshDirectContext(env, context);
  let connected = 0;
  const started = Date.now();
  const clients: Client[] = [];
  const connections = Math.ceil(subscribers / context.perConnection);
  for (let c = 0; c < connections; c++) {
    const first = c * context.perConnection;
    const jobIds = Array.from({ length: Math.min(context.perConnection, subscribers - first) }, (_, s) => context.jobIds[(first + s) % context.jobIds.length]!);
    clients.push(openSubscriptions(env, context, target, jobIds, (message) => onEvent(Number(message)), () => (connected += 1)));
    if (c % 50 === 49) await sleep(20);
  }
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (target === "gateway" ? (await gatewayMetrics(env)).subscriptions.subscribers >= subscribers : connected >= connections) break;
    await sleep(100);
  }
  const subscribedInSeconds = (Date.now() - started) / 1000;
  await sleep(1500);
  return {
    /** From the first connection to every subscription open at the gateway (to every connection, direct). */
    subscribedInSeconds,
    async close() {
      await Promise.all(clients.map((client) => client.dispose()));
      await sleep(1000);
    },
  };
}

/** The writer: `rate` updates per second for `seconds`, round-robin over the jobs, each stamped with its send time. */
async function writeJobUpdates(env: BenchEnvironment, context: BenchContext, seconds: number) {
  let written = 0;
  let inFlight = 0;
  const writeTimes: number[] = [];
  const started = Date.now();
  const end = started + seconds * 1000;
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
  return { written, writeTimes, elapsed: (Date.now() - started) / 1000 };
}

async function measure(env: BenchEnvironment, target: "gateway" | "direct", subscribers: number, context: BenchContext): Promise<Record<string, string | number>> {
  const before = await gatewayMetrics(env);
  const latencies: number[] = [];
  let received = 0;
  const clients = await connectSubscribers(env, target, subscribers, context, (writtenAt) => {
    received += 1;
    if (writtenAt) latencies.push(Date.now() - writtenAt);
  });
  const subscribed = await gatewayMetrics(env);

  const samples: GatewayMetrics[] = [subscribed];
  const sampler = setInterval(() => void gatewayMetrics(env).then((m) => samples.push(m)), 2000);
  // Through the gateway, ten more subscribers straight on the stack subgraph time the same events up to there.
  const probe = target === "gateway" ? await probeStackSubgraph(env, context) : null;
  // This process's own event-loop lag: it is in every latency measured here.
  const clientLag = monitorEventLoopDelay({ resolution: 5 });
  clientLag.enable();
  const clientCpuBefore = process.cpuUsage();
  received = 0;
  latencies.length = 0;
  const { written, writeTimes, elapsed } = await writeJobUpdates(env, context, context.durationSeconds);
  const clientCpu = process.cpuUsage(clientCpuBefore);
  clientLag.disable();
  await sleep(2000);
  clearInterval(sampler);
  await probe?.close();
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
    "stack p99 ms": probe ? quantile(probe.latencies, 0.99) : "-",
    "write p50 ms": quantile(writeTimes, 0.5),
    "write p99 ms": quantile(writeTimes, 0.99),
    "client lag p99 ms": Math.round(clientLag.percentile(99) / 1e6),
    "writes/s": Math.round(writeTimes.length / elapsed),
    "gateway cpu %": target === "gateway" ? Math.round((cpuMicros / 1e6 / (elapsed + 2)) * 100) : "-",
    "clients cpu %": Math.round(((clientCpu.user + clientCpu.system) / 1e6 / elapsed) * 100),
    "gateway rss": target === "gateway" ? mb(subscribed.process.rssBytes) : "-",
    "subscribe s": target === "gateway" ? clients.subscribedInSeconds.toFixed(1) : "-",
    "heap/subscriber": target === "gateway" ? kb((subscribed.process.heapUsedBytes - before.process.heapUsedBytes) / subscribers) : "-",
    "heap drift": target === "gateway" ? mb(heaps.at(-1)! - heaps[0]!) : "-",
    upstream: target === "gateway" ? subscribed.subscriptions.upstream : "-",
    "fetches/event": target === "gateway" ? fetchesPerEvent(subscribed, after, written) : "-",
  };
  await clients.close();
  // What the gateway still holds once this phase's clients have left (should be nothing).
  process.stdout.write(`after ${target} ${subscribers}: ${JSON.stringify((await gatewayMetrics(env)).subscriptions)}\n`);
  process.stdout.write(`settled after ${await settle(env, context)} s\n`);
  return row;
}

/** Fetches of other subgraphs' fields per written update (each reaches one group): 1 without reuse, near 0 with. */
function fetchesPerEvent(before: GatewayMetrics, after: GatewayMetrics, written: number): string {
  const [start, end] = [before.subscriptions.eventFetches, after.subscriptions.eventFetches];
  if (!start || !end) return "?";
  return ((end.misses - start.misses) / Math.max(1, written)).toFixed(3);
}

/**
 * One graphql-ws connection subscribed to `jobIds`: through the gateway with the token, or straight on the
 * stack subgraph with the context the gateway would sign. `onMessage` gets each event's job message.
 */
function openSubscriptions(
  env: BenchEnvironment,
  context: BenchContext,
  target: "gateway" | "direct",
  jobIds: string[],
  onMessage: (message: string | undefined) => void,
  onConnected: () => void = () => {},
): Client {
  const direct = target === "direct";
  const client = createClient({
    url: `${(direct ? env.stackUrl : env.gatewayUrl).replace("http", "ws")}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: direct ? {} : { authorization: `Bearer ${context.token}` },
    retryAttempts: 0,
    on: { connected: onConnected },
  });
  for (const jobId of jobIds) {
    client.subscribe(
      { query: direct ? DIRECT_QUERY : GATEWAY_QUERY, variables: { jobId }, ...(direct ? { extensions: { kombifyContext: context.directContext } } : {}) },
      { next: (event) => onMessage((event.data as { jobUpdated?: { message?: string } } | undefined)?.jobUpdated?.message), error: () => {}, complete: () => {} },
    );
  }
  return client;
}

/** Ten subscribers on the stack subgraph timing the same updates, so a row shows what the gateway adds to them. */
async function probeStackSubgraph(env: BenchEnvironment, context: BenchContext) {
  const latencies: number[] = [];
  await freshDirectContext(env, context);
  const client = openSubscriptions(env, context, "direct", context.jobIds.slice(0, 10), (message) => {
    if (Number(message)) latencies.push(Date.now() - Number(message));
  });
  await sleep(1000);
  latencies.length = 0;
  return { latencies, close: () => client.dispose() };
}

/**
 * Waits until a fresh update reaches a new subscriber on the stack subgraph, so that a phase does not inherit
 * the one before's backlog: a direct phase beyond what the stack subgraph sustains leaves it minutes behind on
 * PocketBase's stream, and the next phase would measure that instead. Returns the seconds it took.
 */
async function settle(env: BenchEnvironment, context: BenchContext): Promise<number> {
  await freshDirectContext(env, context);
  const started = Date.now();
  const marker = `settle ${started}`;
  let seen = false;
  const client = openSubscriptions(env, context, "direct", [context.jobIds[0]!], (message) => void (seen ||= message === marker));
  while (!seen && Date.now() - started < 300_000) {
    await env.pb.collection(context.jobsCollection).update(context.jobIds[0]!, { message: marker }).catch(() => {});
    for (let i = 0; i < 10 && !seen; i++) await sleep(100);
  }
  await client.dispose();
  return Math.round((Date.now() - started) / 100) / 10;
}

const median = (values: number[]) => quantile([...values], 0.5);

/** Least-squares slope of `y` over `x`. */
function slope(points: { x: number; y: number }[]): number {
  const n = points.length;
  const mx = points.reduce((sum, p) => sum + p.x, 0) / n;
  const my = points.reduce((sum, p) => sum + p.y, 0) / n;
  const sxx = points.reduce((sum, p) => sum + (p.x - mx) ** 2, 0);
  return sxx === 0 ? 0 : points.reduce((sum, p) => sum + (p.x - mx) * (p.y - my), 0) / sxx;
}

/**
 * The soak: N subscribers through the gateway at a steady rate for `seconds`, the gateway's heap and RSS
 * sampled every 5 s (a line every 30 s with the delivery of that half minute). After a warm-up (a minute, or a
 * fifth of the run if shorter), it compares the median of the first minute with that of the last and fits a
 * slope over every sample after the warm-up, for the heap in use and for the heap after the last full
 * collection (the gateway's `heapAfterGcBytes`, what it really keeps). The verdict is on the latter where the
 * gateway reports it: heapUsed swings by hundreds of megabytes between collections, so its medians and slope
 * depend on where in that sawtooth a minute falls. Flat means the last minute's median is within 5 % (at least
 * 8 MB) of the first's; a leak of even a few bytes per delivered event would not stay inside that for ten
 * minutes.
 */
async function soak(env: BenchEnvironment, subscribers: number, seconds: number, context: BenchContext): Promise<void> {
  process.stdout.write(`soak: ${subscribers} subscribers over ${context.jobIds.length} jobs, ${context.rate} writes/s, ${seconds} s\n`);
  let received = 0;
  let latencies: number[] = [];
  const clients = await connectSubscribers(env, "gateway", subscribers, context, (writtenAt) => {
    received += 1;
    if (writtenAt) latencies.push(Date.now() - writtenAt);
  });
  const subscribed = await gatewayMetrics(env);
  const samples: { t: number; heap: number; live: number | null; rss: number }[] = [];
  const intervals: { eventsPerSecond: number; p99: number }[] = [];
  const started = Date.now();
  let current = { received: 0, at: started, heaps: [] as number[] };
  received = 0;
  const sampler = setInterval(() => {
    void gatewayMetrics(env).then((metrics) => {
      const now = Date.now();
      const t = Math.round((now - started) / 1000);
      samples.push({ t, heap: metrics.process.heapUsedBytes, live: metrics.process.heapAfterGcBytes ?? null, rss: metrics.process.rssBytes });
      current.heaps.push(metrics.process.heapUsedBytes);
      if (current.heaps.length < 6) return;
      const eventsPerSecond = Math.round((received - current.received) / ((now - current.at) / 1000));
      const p99 = quantile(latencies, 0.99);
      intervals.push({ eventsPerSecond, p99 });
      process.stdout.write(
        `t=${String(t).padStart(4)}s  events/s=${eventsPerSecond}  p50=${quantile(latencies, 0.5)} ms  p99=${p99} ms  heap=${mb(median(current.heaps))}  after-gc=${mb(metrics.process.heapAfterGcBytes ?? 0)}  rss=${mb(metrics.process.rssBytes)}  subscribers=${metrics.subscriptions.subscribers}  buffered=${kb(metrics.subscriptions.bufferedBytes ?? 0)}\n`,
      );
      latencies = [];
      current = { received, at: now, heaps: [] };
    });
  }, 5000);
  const clientCpuBefore = process.cpuUsage();
  const { written, elapsed } = await writeJobUpdates(env, context, seconds);
  const clientCpu = process.cpuUsage(clientCpuBefore);
  await sleep(2000);
  clearInterval(sampler);
  const after = await gatewayMetrics(env);
  await clients.close();

  const warmUp = Math.min(60, seconds / 5);
  const span = Math.min(60, (seconds - warmUp) / 2);
  const settled = samples.filter((sample) => sample.t >= warmUp && sample.t <= seconds);
  const first = settled.filter((sample) => sample.t < warmUp + span);
  const last = settled.filter((sample) => sample.t > seconds - span);
  const judge = (pick: (sample: (typeof samples)[number]) => number | null, label: string) => {
    const known = (list: typeof samples) => list.map(pick).filter((value): value is number => value !== null);
    const [firstValues, lastValues] = [known(first), known(last)];
    if (firstValues.length === 0 || lastValues.length === 0) return null;
    const [before, now] = [median(firstValues), median(lastValues)];
    const points = settled.flatMap((sample) => (pick(sample) === null ? [] : [{ x: sample.t / 60, y: pick(sample)! }]));
    const perMinute = slope(points);
    return {
      flat: now - before <= Math.max(0.05 * before, 8 * 1024 * 1024),
      lines: [
        `${label}: median ${mb(before)} in the first ${Math.round(span)} s after a ${Math.round(warmUp)} s warm-up, ${mb(now)} in the last ${Math.round(span)} s; range ${mb(Math.min(...points.map((p) => p.y)))} to ${mb(Math.max(...points.map((p) => p.y)))}`,
        `${label} slope: ${(perMinute / 1024 / 1024).toFixed(2)} MB per minute (${Math.round(perMinute)} bytes/min, least squares over ${points.length} samples)`,
      ],
    };
  };
  const heapUsed = judge((sample) => sample.heap, "heap in use")!;
  const afterGc = judge((sample) => sample.live, "heap after full collections");
  const flat = (afterGc ?? heapUsed).flat;
  const cpuMicros = after.process.cpuUserMicros + after.process.cpuSystemMicros - (subscribed.process.cpuUserMicros + subscribed.process.cpuSystemMicros);
  const expected = written * (subscribers / context.jobIds.length);
  const summary = [
    `delivered ${((received / Math.max(1, expected)) * 100).toFixed(1)}% at ${Math.round(received / elapsed)} events/s; per 30 s: p99 median ${median(intervals.map((i) => i.p99))} ms, worst ${Math.max(...intervals.map((i) => i.p99))} ms`,
    `gateway cpu ${Math.round((cpuMicros / 1e6 / (elapsed + 2)) * 100)}%, clients cpu ${Math.round(((clientCpu.user + clientCpu.system) / 1e6 / elapsed) * 100)}%`,
    ...heapUsed.lines,
    ...(afterGc?.lines ?? ["heap after full collections: not reported by this gateway"]),
    `rss: median ${mb(median(first.map((s) => s.rss)))} first, ${mb(median(last.map((s) => s.rss)))} last`,
    `heap flat: ${flat ? "yes" : "no"} (${afterGc ? "after full collections" : "heap in use"}: last minute's median within max(5 %, 8 MB) of the first's)`,
    `after the clients left: ${JSON.stringify((await gatewayMetrics(env)).subscriptions)}`,
  ];
  process.stdout.write(`\n${summary.join("\n")}\n`);
}
