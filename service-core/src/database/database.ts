import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import { sql as sqlTag } from "drizzle-orm";
import postgres from "postgres";
import { AppError, ErrorCode } from "../errors/app-error.js";
import { postgresCodeOf } from "./postgres-errors.js";
import { installation } from "./platform/schema.js";

/** Queries name their tables (each owner's drizzle schema module); no relational query schema is bound. */
export type Db = PostgresJsDatabase;

export interface Database {
  db: Db;
  sql: postgres.Sql;
  close(): Promise<void>;
}

export function connectDatabase(url: string, options: { max?: number } = {}): Database {
  const sql = postgres(url, { max: options.max ?? 10, onnotice: () => {}, connect_timeout: 10 });
  return { db: drizzle(sql), sql, close: () => sql.end({ timeout: 5 }) };
}

export type Transaction = Parameters<Parameters<Db["transaction"]>[0]>[0];

/** Writes queued behind one key in this process, beyond which a caller is told to come back (`SerializedBusyError`). */
const MAX_QUEUED_PER_KEY = 32;
/** Longest a caller waits for another replica's hold of the lock before giving up. */
const LOCK_TIMEOUT = "10s";

const queues = new WeakMap<Db, Map<string, { tail: Promise<unknown>; waiting: number }>>();

/**
 * Runs `work` while holding a transaction-scoped advisory lock on `key`, across every replica: what a quota
 * count and the create it allows need, so twenty concurrent creates see each other's and the plan's limit holds.
 *
 * Within a process, callers of one key queue in memory first and only the head of the queue takes a pooled
 * connection to wait for the lock: a flood of writes for one tenant (even one that ends in QUOTA_EXCEEDED)
 * holds one connection, not the whole pool, so other tenants' queries are not starved, and `work` gets the
 * lock's own transaction for any PostgreSQL write it makes, never needing a second connection to finish.
 */
export function serializedBy<T>(db: Db, key: string, work: (tx: Transaction) => Promise<T>): Promise<T> {
  let byKey = queues.get(db);
  if (!byKey) queues.set(db, (byKey = new Map()));
  const queue = byKey.get(key) ?? { tail: Promise.resolve(), waiting: 0 };
  if (queue.waiting >= MAX_QUEUED_PER_KEY) {
    return Promise.reject(new AppError(ErrorCode.RATE_LIMITED, "Too many writes are waiting for this tenant at once; retry in a moment."));
  }
  queue.waiting += 1;
  const run = queue.tail.then(() =>
    db.transaction(async (tx) => {
      await tx.execute(sqlTag`select set_config('lock_timeout', ${LOCK_TIMEOUT}, true)`);
      try {
        await tx.execute(sqlTag`select pg_advisory_xact_lock(hashtext(${key}))`);
      } catch (error) {
        if (postgresCodeOf(error) === "55P03") throw new AppError(ErrorCode.UNAVAILABLE, "This tenant's data is busy with another write; retry in a moment.");
        throw error;
      }
      return work(tx);
    }),
  );
  queue.tail = run.catch(() => {}).finally(() => {
    queue.waiting -= 1;
    if (queue.waiting === 0 && byKey.get(key) === queue) byKey.delete(key);
  });
  byKey.set(key, queue);
  return run;
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
  const [row] = await db.select({ id: installation.id }).from(installation);
  if (!row) throw new Error("The installation table is empty: the database's migrations did not complete.");
  return row.id;
}
