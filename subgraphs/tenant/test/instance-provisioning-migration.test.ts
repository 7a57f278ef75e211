import { randomUUID } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { applyMigrations, connectDatabase, platformMigrations } from "@kombify/service-core/database";
import { dropDatabaseAndDescendants, ensureDatabaseExists } from "@kombify/launcher";
import { tenantMigrations } from "../src/index.js";

/** An installation whose instances were all registered from configuration keeps them, rows intact, when instances gain their provisioner. */
describe("the tenant schema's upgrade to provisioned instances", () => {
  const folder = mkdtempSync(join(tmpdir(), "tenant-migrations-0000-"));
  let url: string;
  afterAll(async () => {
    rmSync(folder, { recursive: true, force: true });
    if (url) await dropDatabaseAndDescendants(url).catch(() => {});
  });

  it("keeps every instance and tenant row as it was, each instance `configured`, with no handle and not retired", async () => {
    const own = new URL(inject("databaseUrl"));
    own.pathname = `${own.pathname}_provisioned_${randomUUID().slice(0, 8)}`;
    url = own.toString();
    await ensureDatabaseExists(url);
    // Yesterday's release: the tenant schema's first migration only.
    cpSync(tenantMigrations.folder, folder, { recursive: true });
    const journal = JSON.parse(readFileSync(join(folder, "meta", "_journal.json"), "utf8"));
    journal.entries = journal.entries.slice(0, 1);
    writeFileSync(join(folder, "meta", "_journal.json"), JSON.stringify(journal));
    await applyMigrations(url, [platformMigrations, { schema: "tenant", folder }]);

    const database = connectDatabase(url, { max: 1 });
    const sql = database.sql;
    try {
      const [shared, dedicated, tenant] = [randomUUID(), randomUUID(), randomUUID()];
      await sql`insert into tenant.stack_instances (id, name, region, deployment_mode, max_tenants, pocketbase_url, healthy) values
        (${shared}, 'local-01', 'eu', 'SHARED', 50, 'http://127.0.0.1:8090', true),
        (${dedicated}, 'dedicated-01', 'us', 'DEDICATED', 1, 'http://127.0.0.1:8091', false)`;
      await sql`insert into tenant.tenants (id, slug, name, zitadel_org_id, instance_id) values (${tenant}, 'acme', 'Acme', 'org-acme', ${shared})`;
      const rows = async (table: string) => (await sql.unsafe(`select row_to_json(t)::jsonb as row from tenant.${table} t order by id`)).map((r) => r.row as Record<string, unknown>);
      const instancesBefore = await rows("stack_instances");
      const tenantsBefore = await rows("tenants");

      await applyMigrations(url, [platformMigrations, tenantMigrations]);

      const instancesAfter = await rows("stack_instances");
      // Later migrations may add columns of their own: each row is compared on what it had, plus this one's three.
      expect(instancesAfter).toEqual(instancesBefore.map((row) => expect.objectContaining({ ...row, provisioner: "configured", provisioner_handle: null, retired_at: null })));
      expect(await rows("tenants")).toEqual(tenantsBefore.map((row) => expect.objectContaining(row)));
      const [admissions] = await sql`select count(*)::int as n from tenant.tenant_creation_admissions`;
      expect(admissions!.n).toBe(0);
    } finally {
      await database.close();
    }
  });
});
