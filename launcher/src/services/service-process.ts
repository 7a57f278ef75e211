import { spawn, type ChildProcess } from "node:child_process";
import { SHUTDOWN_BUDGET_MS } from "@kombify/service-core/server";
import { stopChild } from "@kombify/pocketbase-process";
import type { StoresMessage } from "../stores/stores-process.js";
import { waitForOk } from "./ports.js";

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * tsx's ESM loader, resolved with import conditions (require.resolve would give its CJS API instead); looked up
 * when needed, since some module runners (vitest's) cannot resolve at import time.
 */
const tsxLoader = () => import.meta.resolve("tsx");

/**
 * Runs a TypeScript entry point as its own Node process (no tsx wrapper process in between, so signals
 * reach it directly), with an IPC channel so it exits if we die, and waits until `readyUrl` answers 200.
 */
/** The store supervisor (stores/stores-process.ts): resolves with the stores' URLs once they answer. */
export async function startStoresProcess(env: NodeJS.ProcessEnv): Promise<ServiceProcess & { databaseUrl: string; pocketbaseUrl: string }> {
  const entry = new URL("../stores/stores-process.ts", import.meta.url).pathname;
  const child = spawn(process.execPath, ["--import", tsxLoader(), entry], { env, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const stop = () => stopChild(child, 20_000);
  const message = await new Promise<StoresMessage>((resolve) => {
    child.once("message", (received) => resolve(received as StoresMessage));
    child.once("exit", (code) => resolve({ type: "failed", message: `the store supervisor exited (code ${code}) during start-up` }));
  });
  if (message.type === "failed") {
    await stop();
    throw new Error(message.message);
  }
  return { name: "PostgreSQL and PocketBase", child, stop, databaseUrl: message.databaseUrl, pocketbaseUrl: message.pocketbaseUrl };
}

export async function startServiceProcess(options: {
  name: string;
  entry: string;
  env: NodeJS.ProcessEnv;
  readyUrl: string;
  timeoutMs?: number;
  /** Extra Node.js flags (a profiler, say). */
  nodeArgs?: string[];
}): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), "--import", tsxLoader(), options.entry], {
    env: options.env,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  let exit: string | null = null;
  child.once("exit", (code, signal) => {
    exit = `${options.name} exited (${signal ?? `code ${code}`}) during start-up; its log above says why.`;
  });
  // A little past the service's own budget, so it is killed only when it failed to exit by itself.
  const service = { name: options.name, child, stop: () => stopChild(child, SHUTDOWN_BUDGET_MS + 2000) };
  try {
    // Six subgraphs start side by side, each compiling its TypeScript on the way: on a busy two-core machine
    // one took 25 s to answer /ready, so a slow start is not yet a failed one (a crash ends the wait at once).
    await waitForOk(options.readyUrl, options.timeoutMs ?? 90_000, () => exit);
  } catch (error) {
    await service.stop();
    throw error;
  }
  return service;
}
