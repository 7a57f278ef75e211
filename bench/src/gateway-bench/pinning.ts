import { execFileSync } from "node:child_process";
import { availableParallelism } from "node:os";

/** The core every measured gateway runs on, alone. */
export const GATEWAY_CPU = 0;
/** The core of everything else: the subgraphs and the load generator (this process). */
export const OTHERS_CPU = 1;

/**
 * The benchmark pins each gateway to one core and everything else to another with `taskset` (util-linux): without it
 * the figures would say nothing about one core, so it refuses to run rather than print them.
 */
export function requirePinning(): void {
  try {
    execFileSync("taskset", ["--version"], { stdio: "ignore" });
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    throw new Error(
      missing
        ? "taskset is missing: pnpm bench gateway pins each gateway to its own core with it. Install util-linux (apt-get install util-linux) and run again."
        : `taskset does not run here: ${(error as Error).message}`,
    );
  }
  if (availableParallelism() < 2) throw new Error(`pnpm bench gateway needs two cores (one for the gateway, one for the subgraphs and the load); this machine has ${availableParallelism()}.`);
}

/** `command` started on `cpu` alone (its children inherit the affinity). */
export const pinnedCommand = (cpu: number, command: string[]): string[] => ["taskset", "-c", String(cpu), ...command];

/** Moves a running process, every thread of it, to `cpu`. */
export function pinProcess(pid: number, cpu: number): void {
  execFileSync("taskset", ["-a", "-cp", String(cpu), String(pid)], { stdio: "ignore" });
}
