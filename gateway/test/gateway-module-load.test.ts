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
 * ESM loader hooks (module.register, Node >= 20.6) that write every resolved URL with its importer to a file, and,
 * at exit, the CommonJS module cache (packages required inside CommonJS never reach the ESM hooks on Node 20).
 * The child is given an invalid APOLLO_TELEMETRY_DISABLED, so main.ts stops at its config check (exit 78) after
 * every static import was evaluated and before it opens anything.
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
  appendFileSync(log, JSON.stringify({ url: result.url, parent: context.parentURL ?? null }) + "\\n");
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
  for (const file of Object.keys(require.cache)) appendFileSync(log, JSON.stringify({ url: pathToFileURL(file).href, parent: "require.cache" }) + "\\n");
  appendFileSync(log, JSON.stringify({ eventSource: typeof globalThis.EventSource }) + "\\n");
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

async function loadGatewayEntry(): Promise<Loaded> {
  writeFileSync(join(dir, "hooks.mjs"), HOOKS);
  writeFileSync(join(dir, "recorder.mjs"), RECORDER);
  const log = join(dir, "modules.jsonl");
  writeFileSync(log, "");
  const child = spawn(process.execPath, ["--import", "tsx", "--import", pathToFileURL(join(dir, "recorder.mjs")).href, MAIN], {
    cwd: REPO_ROOT,
    env: { ...process.env, MODULE_LOAD_LOG: log, APOLLO_TELEMETRY_DISABLED: "not-a-boolean", NODE_OPTIONS: "" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  const urls = new Map<string, string | null>();
  let eventSource: string | undefined;
  for (const line of readFileSync(log, "utf8").split("\n").filter(Boolean)) {
    const entry = JSON.parse(line) as { url?: string; parent?: string | null; eventSource?: string };
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
    // It stopped where meant to (the config check), so every static import of main.ts was evaluated.
    expect(loaded.code, loaded.stderr).toBe(78);
    expect(loaded.stderr).toContain("APOLLO_TELEMETRY_DISABLED");
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
  });
});
