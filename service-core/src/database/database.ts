import { fileURLToPath } from "node:url";
import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import { sql as sqlTag } from "drizzle-orm";
import postgres from "postgres";
import * as schema from "./schema.js";

export type Db = PostgresJsDatabase<typeof schema>;

export interface Database {
  db: Db;
  sql: postgres.Sql;
  close(): Promise<void>;
}

export function connectDatabase(url: string, options: { max?: number } = {}): Database {
  const sql = postgres(url, { max: options.max ?? 10, onnotice: () => {}, connect_timeout: 10 });
  return { db: drizzle(sql, { schema }), sql, close: () => sql.end({ timeout: 5 }) };
}

const migrationsFolder = fileURLToPath(new URL("./migrations", import.meta.url));
/** An arbitrary constant: every process that migrates takes the same lock, so concurrent starts don't race. */
const MIGRATION_LOCK_KEY = 7_320_451;

/**
 * Applies the checked-in migrations; safe to call from every service at start. A one-connection client
 * makes the session-level advisory lock and the migration share a connection.
 */
export async function applyMigrations(url: string): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    await migrate(drizzle(sql, { schema }), { migrationsFolder });
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * Runs `work` while holding a transaction-scoped advisory lock on `key`, across every replica: what a quota
 * count and the create it allows need, so twenty concurrent creates see each other's and the plan's limit holds.
 */
export function serializedBy<T>(db: Db, key: string, work: () => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.execute(sqlTag`select pg_advisory_xact_lock(hashtext(${key}))`);
    return work();
  });
}

/** Whether PostgreSQL answers; for readiness probes. */
export async function databaseAnswers(database: Database): Promise<boolean> {
  try {
    await database.sql`select 1`;
    return true;
  } catch {
    return false;
  }
}

/** This installation's identity (the installation table's one row, written by its migration). */
export async function readInstallationId(db: Db): Promise<string> {
  const [row] = await db.select({ id: schema.installation.id }).from(schema.installation);
  if (!row) throw new Error("The installation table is empty: the database's migrations did not complete.");
  return row.id;
}
