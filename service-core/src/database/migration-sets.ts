import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";

/**
 * One owner's migrations: the SQL files and drizzle journal kept next to the owner's code, applied into the
 * owner's PostgreSQL schema with the journal (`<schema>.__drizzle_migrations`) inside that schema, so each owner
 * changes its tables alone and a service applies only its own set (plus the kernel's `platform` set).
 */
export interface MigrationSet {
  /** The PostgreSQL schema the owner's tables and its migration journal live in. */
  schema: string;
  /** The folder of SQL files and `meta/_journal.json`. */
  folder: string;
}

/** `folder` relative to the module that declares the set (pass `import.meta.url`). */
export function migrationSet(schema: string, folder: string, declaredAt: string): MigrationSet {
  return { schema, folder: fileURLToPath(new URL(folder, declaredAt)) };
}

/** Tables the shared-schema releases kept in public; each owner's first migration moves its own out. */
const LEGACY_TABLES = ["installation", "audit_log", "stack_instances", "tenants", "feature_flag_overrides", "users", "billing_subscriptions", "stripe_events", "simulations", "simulation_nodes", "job_queue", "stack_simulations"];
/** The shared-schema releases' migrations (0000-0005): the owners' first migrations adopt tables of that shape only. */
const LEGACY_MIGRATION_COUNT = 6;

/**
 * An installation still holding tables in public must have every shared-schema migration applied, or adopting its
 * tables would carry an older shape into the owners' schemas (a column short, say) and fail later, obscurely.
 */
async function assertLegacyInstallationComplete(sql: postgres.Sql): Promise<void> {
  const [legacy] = await sql<{ tables: number; journal: boolean }[]>`
    select count(*)::int as tables, to_regclass('drizzle.__drizzle_migrations') is not null as journal
    from unnest(${LEGACY_TABLES}::text[]) as name where to_regclass('public.' || name) is not null`;
  if (!legacy || legacy.tables === 0) return;
  const applied = legacy.journal ? Number((await sql`select count(*)::int as n from drizzle.__drizzle_migrations`)[0]!.n) : 0;
  if (applied < LEGACY_MIGRATION_COUNT) {
    throw new Error(
      `This database was made by a release older than the last one with shared tables (${applied} of its ${LEGACY_MIGRATION_COUNT} migrations applied): start that release once to finish them, then this one.`,
    );
  }
}

/** An arbitrary constant: every process that migrates takes the same lock, so concurrent starts don't race. */
const MIGRATION_LOCK_KEY = 7_320_451;

/**
 * Applies each set in order; safe to call from every service at start. One lock for every owner: a first start
 * on an installation made before the schemas were split moves tables between schemas and drops constraints that
 * crossed owners, and serialising the owners keeps those moves from deadlocking each other. A one-connection
 * client makes the session-level advisory lock and the migrations share a connection.
 */
export async function applyMigrations(url: string, sets: readonly MigrationSet[]): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    await assertLegacyInstallationComplete(sql);
    const db = drizzle(sql);
    for (const set of sets) {
      await migrate(db, { migrationsFolder: set.folder, migrationsSchema: set.schema, migrationsTable: "__drizzle_migrations" });
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}
