import type { Logger } from "@kombify/service-core/logging";
import type { LauncherConfig } from "../config.js";
import { pocketBaseBinary, startPocketBase, waitForOk } from "@kombify/pocketbase-process";
import { startEmbeddedPostgres } from "../postgres/embedded-postgres.js";
import { ensureDatabaseExists } from "../postgres/postgres-database.js";
import { assertPortFree } from "../services/ports.js";

export interface Stores {
  databaseUrl: string;
  pocketbaseUrl: string;
}

/**
 * PostgreSQL (DATABASE_URL, else embedded) migrated, then PocketBase (POCKETBASE_URL, checked, else our own
 * child). Each store started here is handed to `started` the moment it exists, so whoever runs this can stop
 * it even when start-up is interrupted.
 */
export async function startStores(
  config: LauncherConfig,
  log: Logger,
  started: (name: string, stop: () => Promise<void>) => void,
  died: (description: string) => void,
): Promise<Stores> {
  const binary = config.POCKETBASE_URL ? null : pocketBaseBinary(config.POCKETBASE_BINARY);

  let databaseUrl = config.DATABASE_URL;
  if (!databaseUrl) {
    await assertPortFree(config.EMBEDDED_POSTGRES_PORT, "127.0.0.1", "EMBEDDED_POSTGRES_PORT");
    databaseUrl = (await startEmbeddedPostgres(config.dataDir, config.EMBEDDED_POSTGRES_PORT, log, (stop) => started("PostgreSQL", stop))).url;
  }
  await ensureDatabaseExists(databaseUrl);

  let pocketbaseUrl = config.POCKETBASE_URL;
  if (pocketbaseUrl) {
    await waitForOk(`${pocketbaseUrl.replace(/\/$/, "")}/api/health`, 10_000).catch(() => {
      throw new Error(`POCKETBASE_URL=${pocketbaseUrl} does not answer /api/health: start that PocketBase, or unset POCKETBASE_URL to run our own.`);
    });
  } else {
    await assertPortFree(config.POCKETBASE_PORT, "127.0.0.1", "POCKETBASE_PORT");
    pocketbaseUrl = (
      await startPocketBase({
        binary: binary!,
        dataDir: config.dataDir,
        port: config.POCKETBASE_PORT,
        superuser: { email: config.POCKETBASE_SUPERUSER_EMAIL, password: config.POCKETBASE_SUPERUSER_PASSWORD },
        log,
        onSpawn: (stop) => started("PocketBase", stop),
        onUnexpectedExit: died,
      })
    ).url;
  }
  return { databaseUrl, pocketbaseUrl };
}
