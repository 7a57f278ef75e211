import { and, eq, isNull, sql } from "drizzle-orm";
import type { Db } from "@kombify/service-core/database";
import { stackInstances, type StackInstanceRow } from "../db/schema.js";

export interface ConfiguredInstance {
  name: string;
  region: string;
  deploymentMode: "SHARED" | "DEDICATED";
  maxTenants: number;
  pocketbaseUrl: string;
  /** The provisioner that made it and its handle on it; absent: registered from configuration. */
  provisioner?: { kind: string; handle: string };
}

export interface InstanceSummary {
  id: string;
  name: string;
  region: string;
  deploymentMode: "SHARED" | "DEDICATED";
  maxTenants: number;
  tenantCount: number;
  healthy: boolean;
  pocketbaseUrl: string;
  /** `configured` (from this deployment's configuration) or the provisioner that made it (`process`, `docker`, …). */
  provisioner: string;
  /** The provisioner's handle on it; null for configured instances. */
  provisionerHandle: string | null;
}

/** Instances in service: every one not retired. */
const inService = isNull(stackInstances.retiredAt);

/**
 * Where new tenants may be placed: SHARED instances not being drained. A DEDICATED instance is its ENTERPRISE
 * tenant's alone (tenants arrive there by a move), and a drained one is being emptied.
 */
export const placeable = and(eq(stackInstances.deploymentMode, "SHARED"), sql`${stackInstances.id} not in (select id from tenant.stack_instances where draining_since is not null)`);

/**
 * Tenants on the instance row of the enclosing query, and those on their way to it by a move not yet switched
 * (their place is taken already). Spelled out: drizzle would leave the columns unqualified.
 */
export const tenantCount = sql<number>`(
  (select count(*)::int from tenant.tenants as placed where placed.instance_id = tenant.stack_instances.id)
  + (select count(*)::int from tenant.tenant_relocations as arriving
     where arriving.to_instance_id = tenant.stack_instances.id and arriving.phase in ('fencing', 'copying', 'switching')))`;

/** The KombiStack instances tenants are placed on, with their live tenant counts. */
export class InstanceDirectory {
  constructor(private readonly db: Db) {}

  /** Registers (or updates) an instance this deployment is configured with; returns its row. */
  async register(instance: ConfiguredInstance): Promise<StackInstanceRow> {
    const { provisioner, ...fields } = instance;
    const made = provisioner ? { provisioner: provisioner.kind, provisionerHandle: provisioner.handle } : {};
    const [row] = await this.db
      .insert(stackInstances)
      .values({ ...fields, ...made })
      .onConflictDoUpdate({
        target: stackInstances.name,
        set: {
          region: instance.region,
          deploymentMode: instance.deploymentMode,
          maxTenants: instance.maxTenants,
          pocketbaseUrl: instance.pocketbaseUrl,
          ...made,
        },
      })
      .returning();
    return row!;
  }

  /** The instances in service (not retired), by name. */
  async list(): Promise<InstanceSummary[]> {
    const rows = await this.db.select({ row: stackInstances, tenantCount }).from(stackInstances).where(inService).orderBy(stackInstances.name);
    return rows.map(({ row, tenantCount }) => toSummary(row, tenantCount));
  }

  /**
   * Free places on the healthy SHARED instances in service (what automatic growth watches), and whether any of
   * them has a place at all.
   */
  async sharedRoom(): Promise<{ free: number; anyRoom: boolean }> {
    const [row] = await this.db
      .select({
        free: sql<number>`coalesce(sum(greatest(${stackInstances.maxTenants} - ${tenantCount}, 0)), 0)::int`,
        anyRoom: sql<boolean>`coalesce(bool_or(${tenantCount} < ${stackInstances.maxTenants}), false)`,
      })
      .from(stackInstances)
      .where(and(inService, eq(stackInstances.healthy, true), placeable));
    return { free: Number(row?.free ?? 0), anyRoom: Boolean(row?.anyRoom) };
  }

  /** Takes an instance out of service for good; false when it was retired already or does not exist. */
  async markRetired(id: string): Promise<boolean> {
    const retired = await this.db
      .update(stackInstances)
      .set({ retiredAt: new Date() })
      .where(and(eq(stackInstances.id, id), inService))
      .returning({ id: stackInstances.id });
    return retired.length > 0;
  }

  /** Marks an instance healthy or not; true when that changed something (its tenants' directory entries change with it). */
  async setHealthy(id: string, healthy: boolean): Promise<boolean> {
    const changed = await this.db
      .update(stackInstances)
      .set({ healthy })
      .where(and(eq(stackInstances.id, id), eq(stackInstances.healthy, !healthy)))
      .returning({ id: stackInstances.id });
    return changed.length > 0;
  }

  /** Whether a new tenant could be placed now: some healthy SHARED instance not being drained has room. */
  async canTakeTenants(): Promise<boolean> {
    const [row] = await this.db
      .select({ id: stackInstances.id })
      .from(stackInstances)
      .where(and(inService, eq(stackInstances.healthy, true), placeable, sql`${tenantCount} < ${stackInstances.maxTenants}`))
      .limit(1);
    return Boolean(row);
  }

  /** The instance, retired or not. */
  async get(id: string): Promise<InstanceSummary | null> {
    const [found] = await this.db.select({ row: stackInstances, tenantCount }).from(stackInstances).where(eq(stackInstances.id, id));
    return found ? toSummary(found.row, found.tenantCount) : null;
  }
}

function toSummary(row: StackInstanceRow, count: number): InstanceSummary {
  return {
    id: row.id,
    name: row.name,
    region: row.region,
    deploymentMode: row.deploymentMode,
    maxTenants: row.maxTenants,
    tenantCount: count,
    healthy: row.healthy,
    pocketbaseUrl: row.pocketbaseUrl,
    provisioner: row.provisioner,
    provisionerHandle: row.provisionerHandle,
  };
}
