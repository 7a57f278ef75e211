import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "@kombify/launcher";
import { GATEWAY_CPU, pinnedCommand } from "./pinning.js";

/** `ours@<label>`: ours from another checkout (an earlier commit), to measure what a change gave. */
export type ContestantName = "stock" | "hive" | "ours" | `ours@${string}`;

/** Another checkout of this repository whose gateway runs beside the current one (`--ours-at label=dir`). */
export interface OtherCheckout {
  label: string;
  dir: string;
}

export interface Contestant {
  name: ContestantName;
  /** What the table calls it. */
  label: string;
  /** Its GraphQL endpoint. */
  url: string;
  /** The gateway's own process (taskset execs into it), the root of its process tree. */
  pid: number;
  /** Its stdout and stderr. */
  logFile: string;
  stop(): Promise<void>;
}

export interface OursSettings {
  supergraphFile: string;
  databaseUrl: string;
  contextSigningKey: string;
  oidc: { issuer: string; audience: string; jwksUrl: string };
  platformOrgId: string;
  /** Settings beyond the production defaults (each one the report names). */
  env: Record<string, string>;
  /** Where `--cpu-prof` writes ours's CPU profile when it exits; unset: not profiled. */
  profileDir?: string;
}

const NODE_TSX = [process.execPath, "--import", import.meta.resolve("tsx")];
const STOCK_MAIN = fileURLToPath(new URL("./contestants/stock-apollo-gateway.ts", import.meta.url));
const OURS_MAIN = fileURLToPath(new URL("../../../gateway/src/main.ts", import.meta.url));
const HIVE_BIN = join(dirname(createRequire(import.meta.url).resolve("@graphql-hive/gateway/package.json")), "dist", "bin.js");

/**
 * Stock @apollo/gateway on @apollo/server 5, defaults (contestants/stock-apollo-gateway.ts), run through tsx as the
 * public benchmark runs it (`tsx index.ts`) and as ours runs: the loader's memory weighs on both alike.
 */
export async function startStock(supergraphFile: string, logDir: string): Promise<Contestant> {
  const port = await freePort();
  return start("stock", "stock @apollo/gateway", [...NODE_TSX, STOCK_MAIN], { NODE_ENV: "production", SUPERGRAPH_FILE: supergraphFile, PORT: String(port), APOLLO_TELEMETRY_DISABLED: "true" }, `http://127.0.0.1:${port}/`, logDir);
}

/** Hive Gateway's CLI with its defaults, one worker (`--fork 1`), in production, with no config file (its own folder). */
export async function startHive(supergraphFile: string, logDir: string): Promise<Contestant> {
  const port = await freePort();
  const cwd = join(logDir, "hive-gateway");
  mkdirSync(cwd, { recursive: true });
  return start(
    "hive",
    "Hive Gateway",
    [process.execPath, HIVE_BIN, "supergraph", supergraphFile, "--fork", "1", "--host", "127.0.0.1", "--port", String(port)],
    { NODE_ENV: "production" },
    `http://127.0.0.1:${port}/graphql`,
    logDir,
    cwd,
  );
}

/** Ours, started as an operator starts it (node --import tsx gateway/src/main.ts), in production, with its defaults but `settings.env`. */
export async function startOurs(settings: OursSettings, logDir: string, checkout?: OtherCheckout): Promise<Contestant> {
  const [port, metricsPort] = [await freePort(), await freePort()];
  const profile = settings.profileDir ? ["--cpu-prof", `--cpu-prof-dir=${settings.profileDir}`] : [];
  const main = checkout ? join(checkout.dir, "gateway/src/main.ts") : OURS_MAIN;
  return start(
    checkout ? `ours@${checkout.label}` : "ours",
    checkout ? `ours at ${checkout.label}` : "ours (kombify gateway)",
    [process.execPath, ...(checkout ? [] : profile), ...NODE_TSX.slice(1), main],
    {
      NODE_ENV: "production",
      HOST: "127.0.0.1",
      PORT: String(port),
      METRICS_HOST: "127.0.0.1",
      METRICS_PORT: String(metricsPort),
      SUPERGRAPH_FILE: settings.supergraphFile,
      DATABASE_URL: settings.databaseUrl,
      CONTEXT_SIGNING_KEY: settings.contextSigningKey,
      OIDC_ISSUER: settings.oidc.issuer,
      OIDC_AUDIENCE: settings.oidc.audience,
      OIDC_JWKS_URL: settings.oidc.jwksUrl,
      PLATFORM_ORG_ID: settings.platformOrgId,
      ...settings.env,
    },
    `http://127.0.0.1:${port}/graphql`,
    logDir,
    checkout?.dir,
  );
}

async function start(name: ContestantName, label: string, command: string[], env: Record<string, string>, url: string, logDir: string, cwd?: string): Promise<Contestant> {
  const logFile = join(logDir, `${name}.log`);
  const log = openSync(logFile, "a");
  const pinned = pinnedCommand(GATEWAY_CPU, command);
  // Only what a process needs from this one's environment: none of its SUBGRAPH_*_URL, NODE_OPTIONS or the like.
  const child = spawn(pinned[0]!, pinned.slice(1), { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ["ignore", log, log] });
  closeSync(log);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const killed = setTimeout(() => child.kill("SIGKILL"), 15_000);
    await exited;
    clearTimeout(killed);
  };
  try {
    await waitUntilServing(url, () => child.exitCode !== null || child.signalCode !== null);
  } catch (error) {
    await stop();
    const tail = readFileSync(logFile, "utf8").split("\n").slice(-30).join("\n");
    throw new Error(`${label} did not start: ${(error as Error).message}\n--- ${logFile} (last lines) ---\n${tail}`);
  }
  return { name, label, url, pid: child.pid!, logFile, stop };
}

/** Until `url` answers `{ __typename }` with 200. */
async function waitUntilServing(url: string, exited: () => boolean, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    if (exited()) throw new Error("it exited during start-up");
    try {
      const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: '{"query":"{ __typename }"}', signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
      last = `HTTP ${response.status}: ${(await response.text()).slice(0, 200)}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`not serving after ${timeoutMs / 1000} s (${last})`);
}
