import { and, eq, sql } from "drizzle-orm";
import { boolean, pgSchema, text, timestamp, uuid } from "drizzle-orm/pg-core";
import type { PostgresJsDatabase } from "drizzle-orm/postgres-js";
import type { PlanTier, TenantRef } from "@kombify/service-core/auth";

/**
 * The tenant subgraph's published read model: the one answer to "who is this caller's tenant, on which
 * instance, on which plan", for the gateway, the PocketBase namespace resolver and every subgraph that needs it.
 * A view the tenant subgraph's migrations maintain over its own tables; the plan column is billing's decision
 * (billing's published `effective_plan`), so no reader works a plan out itself. Nothing outside the tenant
 * subgraph reads its tables; this module imports only drizzle, so any process may load it.
 */
const tenantSchema = pgSchema("tenant");

export const tenantDirectory = tenantSchema
  .view("tenant_directory", {
    tenantId: uuid("tenant_id").notNull(),
    slug: text("slug").notNull(),
    name: text("name").notNull(),
    zitadelOrgId: text("zitadel_org_id").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
    instanceId: uuid("instance_id").notNull(),
    instanceName: text("instance_name").notNull(),
    instanceRegion: text("instance_region").notNull(),
    deploymentMode: text("deployment_mode").notNull(),
    pocketbaseUrl: text("pocketbase_url").notNull(),
    instanceHealthy: boolean("instance_healthy").notNull(),
    plan: text("plan").notNull(),
    /** The tenant's namespace is on its way to another instance: nothing may read or write it until the move ends. */
    moving: boolean("moving").notNull(),
  })
  .existing();

/**
 * Where changes to the directory are announced, each with the tenant id as payload: the tenant subgraph's own
 * (tenant rows, their instances) and billing's plan changes. A reader that caches entries listens to all of them.
 */
export const TENANT_CHANGED_CHANNEL = "kombify_tenant_changed";
/** Billing's event: a tenant's effective plan may have changed. */
export const PLAN_CHANGED_CHANNEL = "kombify_plan_changed";
export const TENANT_DIRECTORY_CHANNELS = [TENANT_CHANGED_CHANNEL, PLAN_CHANGED_CHANNEL] as const;

export interface DirectoryEntry {
  tenant: TenantRef;
  name: string;
  orgId: string;
  createdAt: Date;
  instance: { id: string; name: string; region: string; deploymentMode: string; pocketbaseUrl: string; healthy: boolean };
}

type Reader = Pick<PostgresJsDatabase, "select">;
type Row = typeof tenantDirectory.$inferSelect;

const PLANS: readonly string[] = ["FREE", "PRO", "ENTERPRISE"] satisfies PlanTier[];

function toEntry(row: Row): DirectoryEntry {
  // The plan comes from billing's published function: a value outside the vocabulary is a broken contract, not FREE.
  if (!PLANS.includes(row.plan)) throw new Error(`tenant_directory gave tenant ${row.tenantId} an unknown plan '${row.plan}'.`);
  return {
    tenant: { id: row.tenantId, slug: row.slug, plan: row.plan as PlanTier },
    name: row.name,
    orgId: row.zitadelOrgId,
    createdAt: row.createdAt,
    instance: {
      id: row.instanceId,
      name: row.instanceName,
      region: row.instanceRegion,
      deploymentMode: row.deploymentMode,
      pocketbaseUrl: row.pocketbaseUrl,
      healthy: row.instanceHealthy,
    },
  };
}

/** The organisation's tenant, or null. */
export async function tenantOfOrganisation(db: Reader, orgId: string): Promise<DirectoryEntry | null> {
  const [row] = await db.select().from(tenantDirectory).where(eq(tenantDirectory.zitadelOrgId, orgId));
  return row ? toEntry(row) : null;
}

/** The tenant by id, or null. `id` must be a UUID (callers validate ids from outside first). */
export async function tenantById(db: Reader, id: string): Promise<DirectoryEntry | null> {
  const [row] = await db.select().from(tenantDirectory).where(eq(tenantDirectory.tenantId, id));
  return row ? toEntry(row) : null;
}

/** Whether tenant `id` belongs to organisation `orgId`. */
export async function tenantBelongsTo(db: Reader, id: string, orgId: string): Promise<boolean> {
  const [row] = await db
    .select({ id: tenantDirectory.tenantId })
    .from(tenantDirectory)
    .where(and(eq(tenantDirectory.tenantId, id), eq(tenantDirectory.zitadelOrgId, orgId)));
  return Boolean(row);
}

/**
 * Whether the directory can answer, plan column included: false until billing (whose function decides the plan)
 * has migrated too. The tenant subgraph is not ready before.
 */
export async function directoryAnswers(db: Pick<PostgresJsDatabase, "execute">): Promise<boolean> {
  try {
    await db.execute(sql`select tenant.plan_of(null)`);
    return true;
  } catch {
    return false;
  }
}

/** The tenant directory as the PocketBase namespace resolver asks it: the instance a tenant is placed on, its health, and whether the tenant is moving. */
export function instanceLookup(db: Reader): (tenantId: string) => Promise<{ url: string; name: string; healthy: boolean; moving: boolean } | null> {
  return async (tenantId) => {
    const [row] = await db
      .select({ url: tenantDirectory.pocketbaseUrl, name: tenantDirectory.instanceName, healthy: tenantDirectory.instanceHealthy, moving: tenantDirectory.moving })
      .from(tenantDirectory)
      .where(eq(tenantDirectory.tenantId, tenantId));
    return row ?? null;
  };
}
