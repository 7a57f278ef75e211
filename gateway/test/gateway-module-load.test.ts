import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

/**
 * The gateway process loads only the kernel it uses: none of the subgraph-side packages (the Docker client, the
 * PocketBase SDK, type-graphql and reflect-metadata, the EventSource polyfill PocketBase realtime needs).
 *
 * A child process runs the real entry, gateway/src/main.ts, under tsx (as `pnpm start` does) with two recorders:
 * ESM loader hooks (module.register, Node >= 20.6) that write every resolved URL with its importer (and the process
 * id) to a file, and, at exit, the CommonJS module cache (packages required inside CommonJS never reach the ESM
 * hooks on Node 20). The child is given a supergraph file that does not exist, so the gateway stops where it
 * would read it (exit 1), after every module of its request path was loaded and before it opens anything. With
 * GATEWAY_WORKERS=2 the same run shows what a cluster's primary loads (its workers stop the same way, and it with them).
 *
 * Known expectation while issue 11 is under way: gateway/src/tenancy/tenant-resolver.ts still imports the
 * "@kombify/service-core" barrel (another change rewrites it), which loads everything; until then this test
 * fails, and its message names tenant-resolver.ts as the importer of each package that should not be there.
 */
const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const MAIN = join(REPO_ROOT, "gateway/src/main.ts");
const FORBIDDEN = /\/node_modules\/(dockerode|pocketbase|type-graphql|reflect-metadata|eventsource)\//;
const BARREL = pathToFileURL(join(REPO_ROOT, "service-core/src/index.ts")).href;

const HOOKS = `
import { appendFileSync } from "node:fs";
let log;
export function initialize(data) { log = data.log; }
export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  appendFileSync(log, JSON.stringify({ url: result.url, parent: context.parentURL ?? null, pid: process.pid }) + "\\n");
  return result;
}
`;
const RECORDER = `
import { appendFileSync } from "node:fs";
import { createRequire, register } from "node:module";
import { pathToFileURL } from "node:url";
const log = process.env.MODULE_LOAD_LOG;
register(new URL("./hooks.mjs", import.meta.url), import.meta.url, { data: { log } });
const require = createRequire(import.meta.url);
process.on("exit", () => {
  for (const file of Object.keys(require.cache)) appendFileSync(log, JSON.stringify({ url: pathToFileURL(file).href, parent: "require.cache", pid: process.pid }) + "\\n");
  appendFileSync(log, JSON.stringify({ eventSource: typeof globalThis.EventSource, pid: process.pid }) + "\\n");
});
`;

interface Loaded {
  urls: Map<string, string | null>;
  eventSource: string | undefined;
  code: number | null;
  stderr: string;
}

const dir = mkdtempSync(join(tmpdir(), "gateway-module-load-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A valid development configuration whose supergraph file is missing: the gateway stops where it would read it. */
const STOPS_AT_THE_SUPERGRAPH = {
  NODE_ENV: "development",
  PORT: "0",
  METRICS_PORT: "0",
  DATABASE_URL: "postgres://nobody@127.0.0.1:1/none",
  CONTEXT_SIGNING_KEY: "-----BEGIN PRIVATE KEY-----\\nnever read\\n-----END PRIVATE KEY-----",
  SUPERGRAPH_FILE: join(dir, "no-such-supergraph.graphql"),
};

/** The modules the entry's process (not its cluster workers, if any) loaded. */
async function loadGatewayEntry(env: Record<string, string> = {}): Promise<Loaded> {
  writeFileSync(join(dir, "hooks.mjs"), HOOKS);
  writeFileSync(join(dir, "recorder.mjs"), RECORDER);
  const log = join(dir, "modules.jsonl");
  writeFileSync(log, "");
  const child = spawn(process.execPath, ["--import", "tsx", "--import", pathToFileURL(join(dir, "recorder.mjs")).href, MAIN], {
    cwd: REPO_ROOT,
    env: { ...process.env, MODULE_LOAD_LOG: log, NODE_OPTIONS: "", ...STOPS_AT_THE_SUPERGRAPH, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  const urls = new Map<string, string | null>();
  let eventSource: string | undefined;
  for (const line of readFileSync(log, "utf8").split("\n").filter(Boolean)) {
    const entry = JSON.parse(line) as { url?: string; parent?: string | null; eventSource?: string; pid?: number };
    if (entry.pid !== child.pid) continue;
    if (entry.eventSource !== undefined) eventSource = entry.eventSource;
    if (entry.url && !urls.has(entry.url)) urls.set(entry.url, entry.parent ?? null);
  }
  return { urls, eventSource, code, stderr };
}

/** The import chain from the first gateway/src module down to `url`, for a failure message that says who to fix. */
function chainOf(url: string, urls: Map<string, string | null>): string {
  const chain: string[] = [];
  let current: string | null | undefined = url;
  while (current && !chain.includes(current) && chain.length < 30) {
    chain.push(current);
    if (current.includes("/gateway/src/")) break;
    current = urls.get(current);
  }
  const fromGateway = chain.reverse();
  const firstPackage = fromGateway.findIndex((link) => link.includes("/node_modules/"));
  return fromGateway
    .slice(0, firstPackage === -1 ? undefined : firstPackage + 1)
    .map((link) => link.replace(pathToFileURL(REPO_ROOT).href, "").replace(/^node_modules\/\.pnpm\/[^/]+\//, ""))
    .join(" -> ");
}

describe("the gateway process's module graph", () => {
  it("loads no Docker client, PocketBase SDK, type-graphql, reflect-metadata or EventSource polyfill", { timeout: 60_000 }, async () => {
    const loaded = await loadGatewayEntry();
    // It stopped where meant to (reading the supergraph), so the whole request path was loaded.
    expect(loaded.code, loaded.stderr).toBe(1);
    const all = [...loaded.urls.keys()];
    // The recorders saw the graph: the gateway's own modules and its ESM and CommonJS dependencies.
    expect(all).toContain(pathToFileURL(join(REPO_ROOT, "gateway/src/gateway-server.ts")).href);
    expect(all.some((url) => url.includes("/node_modules/@apollo/gateway/"))).toBe(true);
    expect(all.some((url) => url.includes("/node_modules/pino/"))).toBe(true);

    // One line per package (or the barrel), with the import chain of its first module that has one.
    const offenders = new Map<string, string>();
    for (const url of all) {
      const what = url === BARREL ? "the @kombify/service-core barrel" : FORBIDDEN.exec(url)?.[1];
      if (!what) continue;
      const chain = chainOf(url, loaded.urls);
      if (!offenders.has(what) || (!offenders.get(what)!.startsWith("gateway/") && chain.startsWith("gateway/"))) offenders.set(what, chain);
    }
    expect([...offenders].map(([what, chain]) => `${what}: ${chain}`)).toEqual([]);
    expect(loaded.eventSource).toBe("undefined");
    // Execution is ours: @apollo/gateway's entry (ApolloGateway, which phones Apollo home and fetches supergraphs
    // from Uplink unless told not to) and its node-fetch stack are never loaded, only its result-merging helpers.
    expect(all.filter((url) => /\/node_modules\/@apollo\/gateway\/dist\/index\.js$|\/node_modules\/(node-fetch|make-fetch-happen)\//.test(url)).map((url) => chainOf(url, loaded.urls))).toEqual([]);
  });

  it("loads none of the request path in a cluster's primary (GATEWAY_WORKERS=2), which does no request work", { timeout: 60_000 }, async () => {
    const loaded = await loadGatewayEntry({ GATEWAY_WORKERS: "2" });
    // Its workers stopped at the missing supergraph, and it with them.
    expect(loaded.code, loaded.stderr).toBe(1);
    const all = [...loaded.urls.keys()];
    expect(all).toContain(pathToFileURL(join(REPO_ROOT, "gateway/src/cluster/cluster-primary.ts")).href);
    // (graphql itself is loaded by the configuration's shapes, as in every gateway process.)
    const requestPath = all.filter(
      (url) => url.endsWith("/gateway/src/gateway-server.ts") || url.endsWith("/@apollo/server/dist/esm/ApolloServer.js") || /\/node_modules\/(@apollo\/(gateway|query-planner|federation-internals)|ws)\//.test(url),
    );
    expect(requestPath).toEqual([]);
  });
});
