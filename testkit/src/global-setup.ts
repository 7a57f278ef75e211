import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { applyMigrations } from "@kombify/service-core/database";
import { createLogger } from "@kombify/service-core/logging";
import { dropDatabaseAndDescendants, ensureDatabaseExists, freePort, pocketBaseBinary, startEmbeddedPostgres, startPocketBase } from "@kombify/launcher";
import { ALL_MIGRATIONS } from "./test-database.js";
import { removeSimulationLeftovers } from "./test-docker.js";

export const TEST_SUPERUSER = { email: "superuser@kombify.test", password: "test-superuser-password" };

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
    pocketbaseUrl: string;
  }
}

/**
 * Once per test run: a real PostgreSQL (a fresh database on DATABASE_URL's server, or an embedded one)
 * and a real PocketBase, both torn down at the end. Tests create their own tenants with unique slugs.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = createLogger("test-setup", process.env.TEST_LOG_LEVEL ?? "warn");
  const dataDir = mkdtempSync(join(tmpdir(), "kombify-test-"));
  chmodSync(dataDir, 0o755); // PostgreSQL runs as its own user when we are root
  const cleanups: (() => Promise<void>)[] = [];

  let databaseUrl: string;
  if (process.env.DATABASE_URL) {
    const url = new URL(process.env.DATABASE_URL);
    // Each test project (unit, integration, e2e) that needs stores runs this setup, perhaps at the same moment.
    url.pathname = `/kombify_test_${Date.now()}_${process.pid}_${randomBytes(3).toString("hex")}`;
    databaseUrl = url.toString();
    cleanups.push(() => dropDatabaseAndDescendants(databaseUrl));
  } else {
    const postgres = await startEmbeddedPostgres(dataDir, await freePort(), log);
    cleanups.push(postgres.stop);
    databaseUrl = postgres.url.replace(/\/kombify$/, "/kombify_test");
  }
  await ensureDatabaseExists(databaseUrl);
  await applyMigrations(databaseUrl, ALL_MIGRATIONS);
  cleanups.push(() => removeSimulationLeftovers(databaseUrl));

  const pocketbase = await startPocketBase({ binary: pocketBaseBinary(), dataDir, port: await freePort(), superuser: TEST_SUPERUSER, log });
  cleanups.push(pocketbase.stop);

  project.provide("databaseUrl", databaseUrl);
  project.provide("pocketbaseUrl", pocketbase.url);
  return async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  };
}

