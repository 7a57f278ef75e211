import type { Logger } from "../logging/logger.js";

/** How long a service has to stop once asked; then it exits regardless (and the launcher waits a little longer). */
export const SHUTDOWN_BUDGET_MS = 10_000;

/**
 * What a service may spend letting work in flight finish (a deploy step, a container start): half the budget,
 * so what it then has to cut short can still be recorded (a job FAILED with a message) and its connections closed.
 */
export const DRAIN_GRACE_MS = SHUTDOWN_BUDGET_MS / 2;

/**
 * Stops cleanly on SIGINT/SIGTERM, and also when the parent that spawned us over IPC goes away
 * (so a launcher killed with SIGKILL leaves no orphan services behind).
 */
export function onShutdown(log: Logger, stop: () => Promise<void>, options: { budgetMs?: number; what?: string } = {}): void {
  let stopping = false;
  const shutdown = (reason: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ reason }, options.what ?? "shutting down");
    const forced = setTimeout(() => process.exit(1), options.budgetMs ?? SHUTDOWN_BUDGET_MS);
    forced.unref();
    stop()
      .catch((error) => log.error({ err: error }, "error while shutting down"))
      .finally(() => process.exit(0));
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  if (process.send) process.once("disconnect", () => shutdown("parent disconnected"));
}
