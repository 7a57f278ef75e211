import { spawn, type ChildProcess } from "node:child_process";
import { stopChild } from "../pocketbase/pocketbase-process.js";
import { waitForOk } from "./ports.js";

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** tsx's ESM loader, resolved with import conditions (require.resolve would give its CJS API instead). */
const tsxLoader = import.meta.resolve("tsx");

/**
 * Runs a TypeScript entry point as its own Node process (no tsx wrapper process in between, so signals
 * reach it directly), with an IPC channel so it exits if we die, and waits until `readyUrl` answers 200.
 */
export async function startServiceProcess(options: {
  name: string;
  entry: string;
  env: NodeJS.ProcessEnv;
  readyUrl: string;
  timeoutMs?: number;
}): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ["--import", tsxLoader, options.entry], {
    env: options.env,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  let exit: string | null = null;
  child.once("exit", (code, signal) => {
    exit = `${options.name} exited (${signal ?? `code ${code}`}) during start-up; its log above says why.`;
  });
  const service = { name: options.name, child, stop: () => stopChild(child, 8000) };
  try {
    await waitForOk(options.readyUrl, options.timeoutMs ?? 30_000, () => exit);
  } catch (error) {
    await service.stop();
    throw error;
  }
  return service;
}
