import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CatalogDocument, CreateStackDocument, CreateTenantDocument, documentText, KombifyClient, MyHomelabDocument } from "@kombify/client";
import { ANONYMOUS, type Caller } from "@kombify/service-core/auth";
import { SUBGRAPHS, subgraphUrlVariable } from "@kombify/service-core/federation";
import { startBenchEnvironment, type BenchEnvironment } from "../bench-environment.js";
import { quantile, table } from "../stats.js";
import { postJson, runClosedLoop, runLoad, type LoadSample } from "./load.js";
import { GATEWAY_CPU, OTHERS_CPU, pinProcess } from "./pinning.js";
import { processTree, runQueueWaitSeconds } from "./process-usage.js";
import { plannedFetches } from "./query-plan.js";
import { DirectReplay, startRecordingProxies } from "./recorded-fetches.js";

export interface KombifyOperationsOptions {
  /** The loaded case's connections (the unloaded one has 1). */
  connections: number;
  rounds: number;
  durationSeconds: number;
  warmupSeconds: number;
}

interface Operation {
  name: string;
  query: string;
  headers: Record<string, string>;
  caller: Caller;
  replay?: DirectReplay;
}

const PLANS = fileURLToPath(new URL("../../../config/plans.json", import.meta.url));
const SUPERGRAPH = fileURLToPath(new URL("../../../schema/supergraph.graphql", import.meta.url));
const say = (line: string) => process.stdout.write(`${line}\n`);

/**
 * kombify's own operations through our gateway and straight to the subgraphs, on the real supergraph (PostgreSQL,
 * PocketBase, six subgraph processes): what the gateway adds to the subgraph fetches it makes. The fetches are the
 * gateway's own, recorded through a pass-through proxy and replayed in the same order (see DirectReplay).
 */
export async function runKombifyOperationsTable(options: KombifyOperationsOptions): Promise<void> {
  say("\nkombify's own operations: our gateway over the real supergraph, and the same subgraph fetches sent straight to the subgraphs");
  const dir = mkdtempSync(join(tmpdir(), "kombify-bench-operations-"));
  // Every request counted against its tenant's budget, as in production, but none refused: budgets no run reaches.
  const catalog = JSON.parse(readFileSync(PLANS, "utf8")) as { plans: { limits: { requestsPerMinute: number } }[] };
  for (const plan of catalog.plans) plan.limits.requestsPerMinute = 1_000_000_000;
  const plansFile = join(dir, "plans.json");
  writeFileSync(plansFile, JSON.stringify(catalog));
  const measuredSettings = { PLANS_FILE: plansFile, RATE_LIMIT_ANONYMOUS_PER_MINUTE: "1000000000", GATEWAY_WORKERS: "1" };

  const env = await startBenchEnvironment({ JOB_RUNNER_ENABLED: "false" });
  try {
    const { token, caller } = await prepareTenant(env);
    // Everything started so far (PostgreSQL, PocketBase, the subgraphs, the set-up gateway) on the others' core.
    for (const pid of processTree(process.pid)) if (pid !== process.pid) pinProcess(pid, OTHERS_CPU);
    const operations: Operation[] = [
      { name: "MyHomelab (token)", query: documentText(MyHomelabDocument), headers: { authorization: `Bearer ${token}` }, caller },
      { name: "Catalog (anonymous)", query: documentText(CatalogDocument), headers: {}, caller: ANONYMOUS },
    ];
    await recordFetches(env, operations, measuredSettings, options.connections);
    const gateway = await env.startGateway(measuredSettings, { cpu: GATEWAY_CPU });
    say(`gateway: production defaults, plus PLANS_FILE (every plan's requests per minute at 1e9) and RATE_LIMIT_ANONYMOUS_PER_MINUTE=1000000000: counted, never refused; GATEWAY_WORKERS=1; pinned to core ${GATEWAY_CPU}, all else on core ${OTHERS_CPU}`);

    const rows: Record<string, string | number>[] = [];
    for (const operation of operations) {
      const body = JSON.stringify({ query: operation.query });
      let waited = 0;
      const viaGateway = async (connections: number, seconds: number) => {
        const before = runQueueWaitSeconds(gateway.pid);
        const sample = await runLoad({ url: `${gateway.url}/graphql`, body, headers: operation.headers, connections, seconds });
        waited += runQueueWaitSeconds(gateway.pid) - before;
        return sample;
      };
      const direct = (connections: number, seconds: number) =>
        runClosedLoop(connections, seconds, (prepared) => operation.replay!.once(prepared), () => operation.replay!.prepare());
      for (const connections of [1, options.connections]) {
        await viaGateway(connections, options.warmupSeconds);
        await direct(connections, options.warmupSeconds);
        waited = 0;
        const samples = { gateway: [] as LoadSample[], direct: [] as LoadSample[] };
        for (let round = 0; round < options.rounds; round++) {
          // Alternating which goes first, so that drift over a round falls on both alike.
          for (const target of round % 2 === 0 ? (["gateway", "direct"] as const) : (["direct", "gateway"] as const)) {
            samples[target].push(await (target === "gateway" ? viaGateway : direct)(connections, options.durationSeconds));
          }
        }
        rows.push(row(operation, connections, samples, waited));
      }
    }
    say(`\n${options.rounds} rounds of ${options.durationSeconds} s per target, alternating; added = gateway − direct (all requests pooled)`);
    say(table(rows));
    say(
      `Under ${options.connections} connections every request is the same operation of one audience: the gateway shares identical subgraph fetches in flight, direct sends every one, so added can be negative there.`,
    );
    say(`load average after: ${loadavg().map((value) => value.toFixed(1)).join(" ")}`);
    for (const operation of operations) await operation.replay?.close();
  } finally {
    await env.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function row(operation: Operation, connections: number, samples: { gateway: LoadSample[]; direct: LoadSample[] }, waitedSeconds: number): Record<string, string | number> {
  const pooled = (list: LoadSample[]) => list.flatMap((sample) => sample.latencies);
  const [gateway, direct] = [pooled(samples.gateway), pooled(samples.direct)];
  const at = (values: number[], q: number) => quantile(values, q);
  const rps = (list: LoadSample[]) => Math.round(list.reduce((sum, sample) => sum + sample.requests, 0) / list.reduce((sum, sample) => sum + sample.seconds, 0));
  const errors = [...samples.gateway, ...samples.direct].reduce((sum, sample) => sum + sample.non200 + sample.graphqlErrors + sample.failed, 0);
  const firstError = [...samples.gateway, ...samples.direct].find((sample) => sample.firstError)?.firstError;
  return {
    operation: operation.name,
    connections,
    "fetches": operation.replay!.describe(),
    "gateway p50 ms": at(gateway, 0.5).toFixed(2),
    "direct p50 ms": at(direct, 0.5).toFixed(2),
    "added p50 ms": (at(gateway, 0.5) - at(direct, 0.5)).toFixed(2),
    "gateway p99 ms": at(gateway, 0.99).toFixed(2),
    "direct p99 ms": at(direct, 0.99).toFixed(2),
    "added p99 ms": (at(gateway, 0.99) - at(direct, 0.99)).toFixed(2),
    "gateway req/s": rps(samples.gateway),
    "direct req/s": rps(samples.direct),
    // Runnable but off its core: what other work on the machine added to the gateway's latency.
    "gateway waited for CPU %": Math.round((waitedSeconds / samples.gateway.reduce((sum, sample) => sum + sample.seconds, 0)) * 100),
    errors: errors === 0 ? 0 : `${errors} (${firstError?.slice(0, 80)})`,
  };
}

/**
 * Each operation once through a gateway whose subgraph URLs lead through recording proxies: its fetches, which the
 * direct case replays. The query plan says how many to expect; an answer with errors ends the benchmark.
 */
async function recordFetches(env: BenchEnvironment, operations: Operation[], settings: Record<string, string>, connections: number): Promise<void> {
  const byName = Object.fromEntries(SUBGRAPHS.map(({ name }) => [name, env.subgraphUrls[subgraphUrlVariable(name)]!]));
  const proxies = await startRecordingProxies(byName);
  const overrides = Object.fromEntries(Object.entries(proxies.urls).map(([name, url]) => [subgraphUrlVariable(name as never), url]));
  const recorder = await env.startGateway({ ...settings, ...overrides });
  try {
    const supergraph = readFileSync(SUPERGRAPH, "utf8");
    for (const operation of operations) {
      proxies.take();
      const { status, json } = await postJson(`${recorder.url}/graphql`, JSON.stringify({ query: operation.query }), operation.headers);
      if (status !== 200 || json?.errors) throw new Error(`${operation.name} failed through the gateway: HTTP ${status} ${JSON.stringify(json).slice(0, 400)}`);
      const fetches = proxies.take();
      operation.replay = new DirectReplay(fetches, env.signer, operation.caller, connections);
      const check = await operation.replay.once(await operation.replay.prepare());
      if (check) throw new Error(`${operation.name}'s fetches sent straight to the subgraphs failed: ${check.detail}`);
      say(`${operation.name}: the query plan fetches from ${plannedFetches(supergraph, operation.query).join(", ")}; the gateway sent ${operation.replay.describe()}`);
    }
  } finally {
    await recorder.stop();
    await proxies.stop();
  }
}

/** A tenant with three stacks, and its owner's token and caller as the gateway would sign it. */
async function prepareTenant(env: BenchEnvironment): Promise<{ token: string; caller: Caller }> {
  const orgId = `bench-org-${Date.now()}`;
  const token = await env.issuer.mint({ sub: "bench-user", orgId, roles: ["tenant:owner"], expiresIn: "12h" });
  const client = new KombifyClient({ url: `${env.gatewayUrl}/graphql`, token });
  const { createTenant } = await client.request(CreateTenantDocument, { name: "Bench", slug: "bench" });
  for (let i = 1; i <= 3; i++) {
    await client.request(CreateStackDocument, { name: `bench-${i}`, stackKitId: "media-center", nodes: [{ hostname: `n${i}`, address: `10.0.0.${i}` }] });
  }
  const caller: Caller = {
    kind: "user",
    userId: "bench-user",
    email: null,
    name: null,
    orgId,
    orgName: null,
    roles: ["tenant:owner"],
    tenant: { id: createTenant.id, slug: createTenant.slug, plan: "FREE" },
  };
  return { token, caller };
}
