import type { Logger } from "../logging/logger.js";

/**
 * Stops cleanly on SIGINT/SIGTERM, and also when the parent that spawned us over IPC goes away
 * (so a launcher killed with SIGKILL leaves no orphan services behind).
 */
export function onShutdown(log: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const shutdown = (reason: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ reason }, "shutting down");
    const forced = setTimeout(() => process.exit(1), 10_000);
    forced.unref();
    stop()
      .catch((error) => log.error({ err: error }, "error while shutting down"))
      .finally(() => process.exit(0));
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  if (process.send) process.once("disconnect", () => shutdown("parent disconnected"));
}
