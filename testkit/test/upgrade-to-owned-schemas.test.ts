import { randomUUID } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { applyMigrations, platformMigrations, type MigrationSet } from "@kombify/service-core/database";
import { dropDatabaseAndDescendants, ensureDatabaseExists } from "@kombify/launcher";
import { billingMigrations } from "@kombify/subgraph-billing";
import { identityMigrations } from "@kombify/subgraph-identity";
import { simulationMigrations } from "@kombify/subgraph-simulation";
import { stackMigrations } from "@kombify/subgraph-stack";
import { tenantMigrations } from "@kombify/subgraph-tenant";

/** The migrations every service ran before each subgraph had its own schema (0000-0005, all tables in public). */
const LEGACY_MIGRATIONS = fileURLToPath(new URL("./fixtures/legacy-migrations", import.meta.url));

/** Each table of the old public schema, its new home, and an order that makes the comparison exact. */
const MOVES = [
  { table: "installation", schema: "platform", order: "singleton" },
  { table: "audit_log", schema: "platform", order: "id" },
  { table: "stack_instances", schema: "tenant", order: "id" },
  { table: "tenants", schema: "tenant", order: "id" },
  { table: "feature_flag_overrides", schema: "tenant", order: "tenant_id, key" },
  { table: "users", schema: "identity", order: "id" },
  { table: "billing_subscriptions", schema: "billing", order: "tenant_id" },
  { table: "stripe_events", schema: "billing", order: "id" },
  { table: "simulations", schema: "simulation", order: "id" },
  { table: "simulation_nodes", schema: "simulation", order: "simulation_id, name" },
  { table: "job_queue", schema: "stack", order: "job_id" },
  { table: "stack_simulations", schema: "stack", order: "tenant_id, stack_id" },
] as const;

/** What each service applies at start: the kernel's set, then its own. */
const SERVICES: MigrationSet[] = [tenantMigrations, billingMigrations, identityMigrations, simulationMigrations, stackMigrations];

async function startEveryService(url: string): Promise<void> {
  // The services start together: each applies the kernel's set, then its own, in whatever order they reach the lock.
  await Promise.all(SERVICES.map(async (own) => {
    await applyMigrations(url, [platformMigrations]);
    await applyMigrations(url, [own]);
  }));
}

type Sql = postgres.Sql;

async function rowsOf(sql: Sql, schema: string, table: string, order: string): Promise<unknown[]> {
  return sql.unsafe(`select row_to_json(t)::text as row from "${schema}"."${table}" t order by ${order}`).then((rows) => rows.map((r) => JSON.parse(r.row as string)));
}

async function snapshot(sql: Sql, where: (move: (typeof MOVES)[number]) => string): Promise<Record<string, unknown[]>> {
  const result: Record<string, unknown[]> = {};
  for (const move of MOVES) result[move.table] = await rowsOf(sql, where(move), move.table, move.order);
  return result;
}

/** Columns, constraints and indexes of the owners' schemas: an upgraded database must look like a new one. */
async function shape(sql: Sql): Promise<unknown> {
  const schemas = ["platform", "tenant", "identity", "billing", "simulation", "stack"];
  const columns = await sql`select table_schema, table_name, column_name, data_type, udt_schema, udt_name, is_nullable, column_default
    from information_schema.columns where table_schema = any(${schemas}) order by 1, 2, 3`;
  const constraints = await sql`select n.nspname, c.conrelid::regclass::text as on_table, c.conname, pg_get_constraintdef(c.oid) as definition
    from pg_constraint c join pg_namespace n on n.oid = c.connamespace where n.nspname = any(${schemas}) order by 1, 2, 3`;
  const indexes = await sql`select schemaname, tablename, indexname, indexdef from pg_indexes where schemaname = any(${schemas}) order by 1, 2, 3`;
  const triggers = await sql`select event_object_schema, event_object_table, trigger_name, event_manipulation, action_statement
    from information_schema.triggers where event_object_schema = any(${schemas}) order by 1, 2, 3, 4`;
  return { columns: [...columns], constraints: [...constraints], indexes: [...indexes], triggers: [...triggers] };
}

async function freshDatabase(label: string): Promise<string> {
  const url = new URL(inject("databaseUrl"));
  url.pathname = `${url.pathname}_${label}_${randomUUID().slice(0, 8)}`;
  await ensureDatabaseExists(url.toString());
  return url.toString();
}

describe("an installation made before each subgraph owned a schema, started on today's code", () => {
  let upgradedUrl: string;
  let freshUrl: string;
  let sql: Sql;
  let before: Record<string, unknown[]>;
  const ids = { instance: randomUUID(), dedicated: randomUUID(), pro: randomUUID(), lapsed: randomUUID(), free: randomUUID(), simulation: randomUUID(), gone: randomUUID() };

  beforeAll(async () => {
    upgradedUrl = await freshDatabase("upgrade");
    freshUrl = await freshDatabase("fresh");
    sql = postgres(upgradedUrl, { max: 2, onnotice: () => {} });
    // Yesterday's code: every service applied these at start, with drizzle's default journal.
    await migrate(drizzle(sql), { migrationsFolder: LEGACY_MIGRATIONS });
    await sql`insert into stack_instances (id, name, region, deployment_mode, max_tenants, pocketbase_url, healthy) values
      (${ids.instance}, 'local-01', 'eu', 'SHARED', 50, 'http://127.0.0.1:8090', true),
      (${ids.dedicated}, 'dedicated-01', 'us', 'DEDICATED', 1, 'http://127.0.0.1:8091', false)`;
    await sql`insert into tenants (id, slug, name, zitadel_org_id, instance_id) values
      (${ids.pro}, 'acme', 'Acme', 'org-acme', ${ids.instance}),
      (${ids.lapsed}, 'lapsed', 'Lapsed Ltd', 'org-lapsed', ${ids.dedicated}),
      (${ids.free}, 'tiny', 'Tiny', 'org-tiny', ${ids.instance})`;
    await sql`insert into feature_flag_overrides (tenant_id, key, enabled) values (${ids.pro}, 'beta-ui', true), (${ids.free}, 'ai-assist', false)`;
    await sql`insert into users (id, email, display_name, roles, tenant_id) values
      ('zitadel-1', 'ann@acme.test', 'Ann', '{tenant:owner}', ${ids.pro}), ('zitadel-2', 'bo@tiny.test', null, '{}', ${ids.free}), ('zitadel-3', 'nobody@x.test', 'No Tenant', '{}', null)`;
    await sql`insert into billing_subscriptions (tenant_id, stripe_customer_id, stripe_subscription_id, status, plan_tier, current_period_end, cancel_at_period_end) values
      (${ids.pro}, 'cus_1', 'sub_1', 'active', 'PRO', now() + interval '20 days', false),
      (${ids.lapsed}, 'cus_2', 'sub_2', 'canceled', 'ENTERPRISE', now() - interval '3 days', true)`;
    await sql`insert into stripe_events (id, type) values ('evt_1', 'customer.subscription.created'), ('evt_2', 'invoice.paid')`;
    await sql`insert into simulations (id, tenant_id, name, status, status_message, image, stack_kit_id) values
      (${ids.simulation}, ${ids.pro}, 'lab', 'RUNNING', null, 'kombify/node:1', 'base-homelab'),
      (${ids.gone}, ${ids.free}, 'old', 'FAILED', 'engine lost', 'kombify/node:1', null)`;
    await sql`insert into simulation_nodes (simulation_id, tenant_id, name, container_id, image, ssh_port, status, status_message) values
      (${ids.simulation}, ${ids.pro}, 'node-1', 'c1', 'kombify/node:1', 22001, 'RUNNING', null),
      (${ids.simulation}, ${ids.pro}, 'node-2', 'c2', 'kombify/node:1', 22002, 'RUNNING', null),
      (${ids.gone}, ${ids.free}, 'node-1', null, 'kombify/node:1', 22003, 'FAILED', 'no container')`;
    await sql`insert into job_queue (job_id, tenant_id, stack_id, kind, stack_status_before, claimed_by, claimed_at) values
      ('job000000000001', ${ids.pro}, 'stack0000000001', 'DEPLOY', 'DRAFT', null, null),
      ('job000000000002', ${ids.free}, 'stack0000000002', 'DESTROY', 'RUNNING', 'runner-1', now())`;
    await sql`insert into stack_simulations (tenant_id, stack_id, simulation_id) values
      (${ids.pro}, 'stack0000000001', ${ids.simulation}), (${ids.free}, 'stack0000000002', null)`;
    for (let i = 0; i < 5; i++) {
      await sql`insert into audit_log (tenant_id, actor_user_id, action, target, request_id, details) values
        (${i % 2 ? ids.pro : null}, 'zitadel-1', ${`action.${i}`}, 'tenant:x', ${`req-${i}`}, ${JSON.stringify({ i })}::jsonb)`;
    }
    before = await snapshot(sql, () => "public");
    expect(Object.values(before).every((rows) => rows.length > 0)).toBe(true);
  });

  afterAll(async () => {
    await sql?.end({ timeout: 5 });
    for (const url of [upgradedUrl, freshUrl]) if (url) await dropDatabaseAndDescendants(url).catch(() => {});
  });

  it("keeps every row, each in its owner's schema, and leaves none behind in public", async () => {
    await startEveryService(upgradedUrl);
    // Columns later migrations added (with their defaults) are not the shared era's: each row is compared on its own.
    const after = await snapshot(sql, (move) => move.schema);
    const asBefore = Object.fromEntries(
      Object.entries(after).map(([table, rows]) => [table, rows.map((row, i) => Object.fromEntries(Object.keys((before[table]![i] ?? {}) as object).map((key) => [key, (row as Record<string, unknown>)[key]])))]),
    );
    expect(asBefore).toEqual(before);
    const left = await sql`select table_name from information_schema.tables where table_schema = 'public'`;
    expect(left.map((row) => row.table_name)).toEqual([]);
  });

  it("ends in the same tables, keys, indexes and triggers as a new installation", async () => {
    await startEveryService(freshUrl);
    const fresh = postgres(freshUrl, { max: 1, onnotice: () => {} });
    try {
      expect(await shape(sql)).toEqual(await shape(fresh));
    } finally {
      await fresh.end({ timeout: 5 });
    }
  });

  it("publishes the tenant directory over the moved rows, with billing's plan for each tenant", async () => {
    const rows = await sql`select tenant_id, slug, instance_name, pocketbase_url, instance_healthy, plan from tenant.tenant_directory order by slug`;
    expect(rows.map((row) => ({ ...row }))).toEqual([
      { tenant_id: ids.pro, slug: "acme", instance_name: "local-01", pocketbase_url: "http://127.0.0.1:8090", instance_healthy: true, plan: "PRO" },
      { tenant_id: ids.lapsed, slug: "lapsed", instance_name: "dedicated-01", pocketbase_url: "http://127.0.0.1:8091", instance_healthy: false, plan: "FREE" },
      { tenant_id: ids.free, slug: "tiny", instance_name: "local-01", pocketbase_url: "http://127.0.0.1:8090", instance_healthy: true, plan: "FREE" },
    ]);
  });

  it("continues the moved sequences and announces directory changes on the new channels", async () => {
    const [next] = await sql`insert into platform.audit_log (action) values ('after.upgrade') returning id`;
    expect(Number(next!.id)).toBeGreaterThan(Math.max(...before.audit_log!.map((row) => (row as { id: number }).id)));
    const heard: string[] = [];
    const listener = postgres(upgradedUrl, { max: 1, onnotice: () => {} });
    try {
      await listener.listen("kombify_plan_changed", (payload) => heard.push(`plan:${payload}`));
      await listener.listen("kombify_tenant_changed", (payload) => heard.push(`tenant:${payload}`));
      await sql`update billing.billing_subscriptions set status = 'past_due' where tenant_id = ${ids.pro}`;
      await sql`update tenant.tenants set name = 'Tiny Co' where id = ${ids.free}`;
      await expect.poll(() => heard.sort()).toEqual([`plan:${ids.pro}`, `tenant:${ids.free}`]);
    } finally {
      await listener.end({ timeout: 5 });
    }
    await sql`delete from platform.audit_log where action = 'after.upgrade'`;
    await sql`update billing.billing_subscriptions set status = 'active' where tenant_id = ${ids.pro}`;
    await sql`update tenant.tenants set name = 'Tiny' where id = ${ids.free}`;
  });

  it("refuses a database whose shared-schema migrations are unfinished, moving nothing", async () => {
    const url = await freshDatabase("partial");
    const partial = postgres(url, { max: 1, onnotice: () => {} });
    try {
      // A release that stopped at 0002: its journal, its tables.
      const folder = mkdtempSync(join(tmpdir(), "legacy-partial-"));
      cpSync(LEGACY_MIGRATIONS, folder, { recursive: true });
      const journal = JSON.parse(readFileSync(join(folder, "meta", "_journal.json"), "utf8"));
      journal.entries = journal.entries.slice(0, 3);
      writeFileSync(join(folder, "meta", "_journal.json"), JSON.stringify(journal));
      await migrate(drizzle(partial), { migrationsFolder: folder });
      await expect(startEveryService(url)).rejects.toThrow(/older than the last one with shared tables \(3 of its 6 migrations applied\)/);
      const schemas = await partial`select nspname from pg_namespace where nspname = any(${["platform", "tenant", "billing", "identity", "simulation", "stack"]})`;
      expect(schemas).toHaveLength(0);
      expect((await partial`select to_regclass('public.tenants') is not null as present`)[0]!.present).toBe(true);
    } finally {
      await partial.end({ timeout: 5 });
      await dropDatabaseAndDescendants(url).catch(() => {});
    }
  });

  it("changes nothing on a second start", async () => {
    const journals = async () =>
      Promise.all(["platform", "tenant", "billing", "identity", "simulation", "stack"].map((schema) => sql.unsafe(`select hash, created_at from "${schema}".__drizzle_migrations order by id`)));
    const journalBefore = await journals();
    const shapeBefore = await shape(sql);
    await startEveryService(upgradedUrl);
    // Columns later migrations added (with their defaults) are not the shared era's: each row is compared on its own.
    const after = await snapshot(sql, (move) => move.schema);
    const asBefore = Object.fromEntries(
      Object.entries(after).map(([table, rows]) => [table, rows.map((row, i) => Object.fromEntries(Object.keys((before[table]![i] ?? {}) as object).map((key) => [key, (row as Record<string, unknown>)[key]])))]),
    );
    expect(asBefore).toEqual(before);
    expect(await journals()).toEqual(journalBefore);
    expect(await shape(sql)).toEqual(shapeBefore);
  });
});
