import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import { applyMigrations } from "@kombify/service-core";
import { ensureDatabaseExists } from "@kombify/launcher";

let database: Promise<string> | undefined;

/**
 * This test file's own database on the run's PostgreSQL server, migrated: files run in parallel and share
 * nothing but PocketBase (where every tenant has its own namespace). All are dropped when the run ends.
 */
export function testDatabaseUrl(): Promise<string> {
  database ??= (async () => {
    const url = new URL(inject("databaseUrl"));
    url.pathname = `${url.pathname}_${randomBytes(4).toString("hex")}`;
    await ensureDatabaseExists(url.toString());
    await applyMigrations(url.toString());
    return url.toString();
  })();
  return database;
}
