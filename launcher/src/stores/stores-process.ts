/**
 * The launcher's store supervisor, a process of its own: starts PostgreSQL and PocketBase and stops them when
 * told to, or when the launcher is gone by any means (its IPC channel closes even on SIGKILL), so the stores
 * never outlive the supervisor's parent.
 */
import { configOrExit, loadDotEnv } from "@kombify/service-core/config";
import { createLogger } from "@kombify/service-core/logging";
import { errorMessage } from "@kombify/service-core/errors";
import { parseLauncherConfig } from "../config.js";
import { startStores } from "./start-stores.js";

export type StoresMessage = { type: "ready"; databaseUrl: string; pocketbaseUrl: string } | { type: "failed"; message: string };

loadDotEnv();
const config = configOrExit(() => parseLauncherConfig());
const log = createLogger("stores", config.LOG_LEVEL);
const stops: { name: string; stop: () => Promise<void> }[] = [];
let stopping: Promise<void> | null = null;

function stopAll(exitCode: number): Promise<void> {
  stopping ??= (async () => {
    for (const { name, stop } of [...stops].reverse()) {
      await stop().catch((error) => log.error({ err: error }, `could not stop ${name}`));
    }
    process.exit(exitCode);
  })();
  return stopping;
}
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(signal, () => void stopAll(0));
process.once("disconnect", () => void stopAll(0));

const send = (message: StoresMessage) => process.send?.(message);
try {
  const stores = await startStores(
    config,
    log,
    (name, stop) => stops.push({ name, stop }),
    (description) => {
      log.error(description);
      void stopAll(1);
    },
  );
  send({ type: "ready", ...stores });
} catch (error) {
  send({ type: "failed", message: errorMessage(error) });
  await stopAll(1);
}
