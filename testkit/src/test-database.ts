import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import { applyMigrations, platformMigrations } from "@kombify/service-core/database";
import { billingMigrations } from "@kombify/subgraph-billing";
import { identityMigrations } from "@kombify/subgraph-identity";
import { simulationMigrations } from "@kombify/subgraph-simulation";
import { stackMigrations } from "@kombify/subgraph-stack";
import { tenantMigrations } from "@kombify/subgraph-tenant";
import { ensureDatabaseExists } from "@kombify/launcher";

/** Every owner's migrations, as the six services together apply them at start (each its own). */
export const ALL_MIGRATIONS = [platformMigrations, tenantMigrations, billingMigrations, identityMigrations, simulationMigrations, stackMigrations];

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
    await applyMigrations(url.toString(), ALL_MIGRATIONS);
    return url.toString();
  })();
  return database;
}
