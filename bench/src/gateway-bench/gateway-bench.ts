import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createLogger } from "@kombify/service-core/logging";
import { ensureDatabaseExists, freePort, generateContextKeyPair, LocalOidcIssuer, startEmbeddedPostgres } from "@kombify/launcher";
import { quantile, table } from "../stats.js";
import { startHive, startOurs, startStock, type Contestant, type ContestantName, type OtherCheckout } from "./contestants.js";
import { postJson, runLoad, type LoadSample } from "./load.js";
import { runKombifyOperationsTable } from "./kombify-operations.js";
import { GATEWAY_CPU, OTHERS_CPU, pinnedCommand, pinProcess, requirePinning } from "./pinning.js";
import { cpuSeconds, peakRssBytes, runQueueWaitSeconds } from "./process-usage.js";
import { firstDifference, referenceAnswer } from "./reference-answer.js";
import { TEST_QUERY_BODY } from "./test-query.js";

export interface GatewayBenchOptions {
  /** Concurrent keep-alive connections of the load generator. */
  connections: number;
  /** Rounds; each gives every gateway one slice of load, in a rotating order (A B C, B C A, C A B, …). */
  rounds: number;
  /** Seconds of load per gateway per round. */
  durationSeconds: number;
  /** Seconds of load per gateway before the first round (JIT, caches, connection pools). */
  warmupSeconds: number;
  gateways: ContestantName[];
  /** `testquery`: the three gateways over the benchmark subgraphs; `kombify`: our own operations, gateway against direct. */
  tables: ("testquery" | "kombify")[];
  /** Ours from other checkouts (earlier commits) beside the current one: what each change gave. */
  oursAt: OtherCheckout[];
  /** Ours started with --cpu-prof, its profile written here when it stops. */
  profileDir?: string;
}

/**
 * Our settings beyond the production defaults, for the TestQuery over the benchmark subgraphs. The load is anonymous
 * and comes from one address: the anonymous budget (60 a minute per address) would refuse all but the first requests,
 * so it is raised out of reach; every request is still counted against it, as in production. One worker, as Hive
 * Gateway gets (`--fork 1`), on the one core (production's default is one per core). Nothing else is changed: the
 * operation ceilings and the cost estimate keep their defaults (the subgraphs declare @listSize).
 */
export const OURS_BENCH_SETTINGS: Record<string, string> = { RATE_LIMIT_ANONYMOUS_PER_MINUTE: "1000000000", GATEWAY_WORKERS: "1" };

const START_SUBGRAPHS = fileURLToPath(new URL("./start-subgraphs.ts", import.meta.url));
const NODE_TSX = [process.execPath, "--import", import.meta.resolve("tsx")];

interface Slice {
  sample: LoadSample;
  cpuSeconds: number;
  waitSeconds: number;
  subgraphCpuSeconds: number;
  subgraphRequests: number;
  loadCpuSeconds: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values: number[]) => quantile([...values], 0.5);
const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
const say = (line: string) => process.stdout.write(`${line}\n`);

/**
 * `pnpm bench gateway`: the public federation benchmark's TestQuery through stock @apollo/gateway, Hive Gateway and
 * ours over the same four subgraphs, each gateway alone on one core, the subgraphs and this load generator on another.
 */
export async function runGatewayBench(options: GatewayBenchOptions): Promise<void> {
  requirePinning();
  const cores = availableParallelism();
  pinProcess(process.pid, OTHERS_CPU);
  if (options.profileDir) mkdirSync(options.profileDir, { recursive: true });
  say(`machine: ${cpus()[0]?.model ?? "?"}, ${cores} cores, Node ${process.version}; gateways on core ${GATEWAY_CPU}, subgraphs and load on core ${OTHERS_CPU}`);
  // Other work on the machine lands on the gateway's core too: said, so that a reader can weigh the figures.
  say(`load average before: ${loadavg().map((value) => value.toFixed(1)).join(" ")} (1, 5, 15 min)`);
  if (options.tables.includes("testquery")) await runTestQueryTable(options);
  if (options.tables.includes("kombify")) await runKombifyOperationsTable({ connections: options.connections, rounds: options.rounds, durationSeconds: options.durationSeconds, warmupSeconds: options.warmupSeconds });
}

async function runTestQueryTable(options: GatewayBenchOptions): Promise<void> {
  const workDir = mkdtempSync(join(tmpdir(), "kombify-bench-gateway-"));
  // An embedded PostgreSQL runs as the postgres user, which must reach its folder in here.
  chmodSync(workDir, 0o755);
  const stops: (() => Promise<void>)[] = [];
  try {
    const subgraphs = await startSubgraphs(workDir);
    stops.push(subgraphs.stop);
    say(`subgraphs: accounts, inventory, products, reviews in one process (pid ${subgraphs.pid}), identical request bodies answered from a per-body cache so they stay far from the bottleneck`);

    const contestants: Contestant[] = [];
    for (const name of options.gateways) {
      const contestant = name === "stock" ? await startStock(subgraphs.supergraphFile, workDir) : name === "hive" ? await startHive(subgraphs.supergraphFile, workDir) : await startOurs(await oursSettings(workDir, subgraphs.supergraphFile, options, stops), workDir);
      stops.push(contestant.stop);
      contestants.push(contestant);
    }
    for (const checkout of options.oursAt) {
      const contestant = await startOurs(await oursSettings(workDir, subgraphs.supergraphFile, options, stops), workDir, checkout);
      stops.push(contestant.stop);
      contestants.push(contestant);
    }
    say(`ours: production defaults, plus ${Object.entries(OURS_BENCH_SETTINGS).map(([key, value]) => `${key}=${value}`).join(" ")} (anonymous budget out of reach, still counted; one worker)`);

    await verifyAnswers(contestants, subgraphs.url);
    say(`\nwarm-up: ${options.warmupSeconds} s each; then ${options.rounds} rounds of ${options.durationSeconds} s each, ${options.connections} connections, order rotating every round`);
    for (const contestant of contestants) await runLoad({ url: contestant.url, body: TEST_QUERY_BODY, connections: options.connections, seconds: options.warmupSeconds });

    const slices = new Map<ContestantName, Slice[]>(contestants.map((contestant) => [contestant.name, []]));
    for (let round = 0; round < options.rounds; round++) {
      const line: string[] = [];
      for (let turn = 0; turn < contestants.length; turn++) {
        const contestant = contestants[(round + turn) % contestants.length]!;
        const slice = await measureSlice(contestant, subgraphs, options);
        slices.get(contestant.name)!.push(slice);
        line.push(`${contestant.name} ${Math.round(slice.sample.rps)} req/s p99 ${quantile(slice.sample.latencies, 0.99).toFixed(0)} ms`);
        await sleep(500);
      }
      say(`round ${round + 1}: ${line.join(", ")}`);
    }
    printTables(contestants, slices, options);
    say(`load average after: ${loadavg().map((value) => value.toFixed(1)).join(" ")}`);
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    if (options.profileDir) {
      const profiles = readdirSync(options.profileDir).filter((file) => file.endsWith(".cpuprofile"));
      say(`\nCPU profiles of ours in ${options.profileDir}: ${profiles.join(", ") || "none written"}`);
    }
    rmSync(workDir, { recursive: true, force: true });
  }
}

async function measureSlice(contestant: Contestant, subgraphs: Awaited<ReturnType<typeof startSubgraphs>>, options: GatewayBenchOptions): Promise<Slice> {
  const before = { cpu: cpuSeconds(contestant.pid), wait: runQueueWaitSeconds(contestant.pid), subgraphCpu: cpuSeconds(subgraphs.pid), subgraphRequests: await subgraphs.requests(), load: process.cpuUsage() };
  const sample = await runLoad({ url: contestant.url, body: TEST_QUERY_BODY, connections: options.connections, seconds: options.durationSeconds });
  const load = process.cpuUsage(before.load);
  return {
    sample,
    cpuSeconds: cpuSeconds(contestant.pid) - before.cpu,
    waitSeconds: runQueueWaitSeconds(contestant.pid) - before.wait,
    subgraphCpuSeconds: cpuSeconds(subgraphs.pid) - before.subgraphCpu,
    subgraphRequests: (await subgraphs.requests()) - before.subgraphRequests,
    loadCpuSeconds: (load.user + load.system) / 1e6,
  };
}

function printTables(contestants: Contestant[], slices: Map<ContestantName, Slice[]>, options: GatewayBenchOptions): void {
  const rows: Record<string, string | number>[] = [];
  const summary = new Map<ContestantName, { rps: number[]; p50: number[]; p99: number[]; cpuPerRequest: number[]; rss: number }>();
  let starved = false;
  for (const contestant of contestants) {
    const mine = slices.get(contestant.name)!;
    const pooled = mine.flatMap((slice) => slice.sample.latencies);
    const seconds = mine.reduce((sum, slice) => sum + slice.sample.seconds, 0);
    const requests = mine.reduce((sum, slice) => sum + slice.sample.requests, 0);
    const sum = (pick: (slice: Slice) => number) => mine.reduce((total, slice) => total + pick(slice), 0);
    const errors = sum((slice) => slice.sample.non200 + slice.sample.graphqlErrors + slice.sample.failed);
    const rss = peakRssBytes(contestant.pid);
    summary.set(contestant.name, {
      rps: mine.map((slice) => slice.sample.rps),
      p50: mine.map((slice) => quantile(slice.sample.latencies, 0.5)),
      p99: mine.map((slice) => quantile(slice.sample.latencies, 0.99)),
      cpuPerRequest: mine.map((slice) => slice.cpuSeconds / Math.max(1, slice.sample.requests)),
      rss,
    });
    // Under a saturating closed loop a gateway that has its core to itself keeps it busy; far less means others took it.
    starved ||= sum((slice) => slice.cpuSeconds) / seconds < 0.8;
    rows.push({
      gateway: contestant.label,
      "req/s": Math.round(median(mine.map((slice) => slice.sample.rps))),
      "p50 ms": quantile(pooled, 0.5).toFixed(1),
      "p99 ms": quantile(pooled, 0.99).toFixed(1),
      errors: errors === 0 ? 0 : `${errors} (${mine.find((slice) => slice.sample.firstError)?.sample.firstError?.slice(0, 80)})`,
      "gateway CPU %": Math.round((sum((slice) => slice.cpuSeconds) / seconds) * 100),
      "CPU ms/req": ((sum((slice) => slice.cpuSeconds) / Math.max(1, requests)) * 1000).toFixed(2),
      "waited for CPU %": Math.round((sum((slice) => slice.waitSeconds) / seconds) * 100),
      "peak RSS MiB": mib(rss),
      "subgraph fetches/req": (sum((slice) => slice.subgraphRequests) / Math.max(1, requests)).toFixed(1),
      "subgraphs CPU %": Math.round((sum((slice) => slice.subgraphCpuSeconds) / seconds) * 100),
      "load CPU %": Math.round((sum((slice) => slice.loadCpuSeconds) / seconds) * 100),
    });
  }
  say(`\nTestQuery, ${options.connections} connections, ${options.rounds} × ${options.durationSeconds} s per gateway (req/s: median of rounds; p50/p99: all requests pooled)`);
  say(table(rows));
  say("waited for CPU: the share of the time the gateway's main thread was runnable but another thread or process had its core");
  if (starved) say("note: a gateway used under 80 % of its core under saturating load: other work on the machine took the rest, so req/s and latency understate it; CPU ms per request depends on that far less");
  const stock = summary.get("stock");
  if (!stock) return;
  // Each round's figure over stock's in the same round, then the median: noise that hit a round hit both.
  const paired = (mine: number[], theirs: number[]) => median(mine.map((value, round) => value / theirs[round]!)).toFixed(2);
  const ratios = contestants
    .filter((contestant) => contestant.name !== "stock")
    .map((contestant) => {
      const mine = summary.get(contestant.name)!;
      return {
        gateway: contestant.label,
        "req/s ÷ stock": paired(mine.rps, stock.rps),
        "p50 ÷ stock": paired(mine.p50, stock.p50),
        "p99 ÷ stock": paired(mine.p99, stock.p99),
        "CPU/req ÷ stock": paired(mine.cpuPerRequest, stock.cpuPerRequest),
        "peak RSS ÷ stock": (mine.rss / stock.rss).toFixed(2),
      };
    });
  say("\nRatios to stock @apollo/gateway (median of each round's paired ratio; the target for ours: req/s ≥ 2, p99 ≤ 0.5, RSS ≤ 1)");
  say(table(ratios));
}

/** Every gateway's `data` must deep-equal the reference answer; anything else ends the benchmark before any load. */
async function verifyAnswers(contestants: Contestant[], subgraphsUrl: string): Promise<void> {
  const reference = referenceAnswer();
  const sizes: string[] = [];
  let fetchesOfStock: number | null = null;
  for (const contestant of contestants) {
    const before = await subgraphRequests(subgraphsUrl);
    const { status, json, bytes } = await postJson(contestant.url, TEST_QUERY_BODY);
    const after = await subgraphRequests(subgraphsUrl);
    if (contestant.name === "stock") fetchesOfStock = after - before;
    const problems = [
      status === 200 ? null : `HTTP ${status}`,
      json?.errors ? `errors: ${JSON.stringify(json.errors).slice(0, 400)}` : null,
      firstDifference(reference, json?.data),
    ].filter(Boolean);
    if (problems.length > 0) throw new Error(`${contestant.label} answered the TestQuery differently from the reference answer, so its figures would compare nothing:\n  ${problems.join("\n  ")}`);
    sizes.push(`${contestant.name} ${(bytes / 1024).toFixed(1)} KB`);
  }
  say(`answers: every gateway's data deep-equals the reference answer (${sizes.join(", ")})${fetchesOfStock === null ? "" : `; stock made ${fetchesOfStock} subgraph fetches for it`}`);
}

async function subgraphRequests(url: string): Promise<number> {
  return ((await (await fetch(`${url}/stats`)).json()) as { requests: number }).requests;
}

/** The four subgraphs in their own process on the others' core; their composed supergraph in `workDir`. */
async function startSubgraphs(workDir: string) {
  const supergraphFile = join(workDir, "supergraph.graphql");
  const port = await freePort();
  const command = pinnedCommand(OTHERS_CPU, [...NODE_TSX, START_SUBGRAPHS, "--port", String(port), "--supergraph", supergraphFile, "--quiet"]);
  const child = spawn(command[0]!, command.slice(1), { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const firstLine = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once("line", resolve);
    child.once("exit", (code) => reject(new Error(`the benchmark subgraphs exited during start-up (code ${code})`)));
  });
  const started = JSON.parse(firstLine) as { pid: number };
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    supergraphFile,
    pid: started.pid,
    requests: () => subgraphRequests(url),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Ours needs PostgreSQL (the tenant directory it listens to): DATABASE_URL's server, else an embedded one. */
async function oursSettings(workDir: string, supergraphFile: string, options: GatewayBenchOptions, stops: (() => Promise<void>)[]) {
  let databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    const embedded = await startEmbeddedPostgres(join(workDir, "postgres"), await freePort(), createLogger("bench", "warn"));
    stops.push(embedded.stop);
    databaseUrl = embedded.url;
  }
  await ensureDatabaseExists(databaseUrl);
  const keys = await generateContextKeyPair();
  const issuer = await LocalOidcIssuer.start({ audience: "kombify-bench" });
  stops.push(() => issuer.stop());
  return {
    supergraphFile,
    databaseUrl,
    contextSigningKey: keys.signingKey,
    oidc: { issuer: issuer.issuer, audience: "kombify-bench", jwksUrl: issuer.jwksUrl },
    platformOrgId: "kombify-bench-platform",
    env: OURS_BENCH_SETTINGS,
    profileDir: options.profileDir,
  };
}
