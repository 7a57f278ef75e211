import postgres from "postgres";

/** Creates the database named in `url` if it does not exist yet, connecting to the server's `postgres` db. */
export async function ensureDatabaseExists(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ""));
  if (!name) throw new Error(`DATABASE_URL ${redact(url)} names no database.`);
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const sql = postgres(admin.toString(), { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    const [found] = await sql`select 1 from pg_database where datname = ${name}`;
    if (!found) await sql.unsafe(`create database "${name.replace(/"/g, '""')}"`);
  } catch (error) {
    if ((error as { code?: string }).code === "42P04") return; // created concurrently
    throw new Error(`PostgreSQL at ${redact(url)} is not usable: ${(error as Error).message}`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * The URLs of the database named in `url` and of every database whose name starts with it plus "_" (a test
 * run's database and each test file's, a benchmark's), on the same server.
 */
export async function databaseAndDescendants(url: string): Promise<string[]> {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  const admin = Object.assign(new URL(url), { pathname: "/postgres" });
  const sql = postgres(admin.toString(), { max: 1, onnotice: () => {} });
  try {
    const databases = await sql<{ datname: string }[]>`select datname from pg_database where datname = ${name} or datname like ${`${name}\_%`}`;
    return databases.map(({ datname }) => Object.assign(new URL(url), { pathname: `/${encodeURIComponent(datname)}` }).toString());
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Drops the database named in `url` and every database whose name starts with it plus "_". */
export async function dropDatabaseAndDescendants(url: string): Promise<void> {
  const databases = await databaseAndDescendants(url);
  const admin = Object.assign(new URL(url), { pathname: "/postgres" });
  const sql = postgres(admin.toString(), { max: 1, onnotice: () => {} });
  try {
    for (const database of databases) {
      const name = decodeURIComponent(new URL(database).pathname.slice(1));
      await sql.unsafe(`drop database if exists "${name.replace(/"/g, '""')}" with (force)`);
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = "***";
  return parsed.toString();
}
