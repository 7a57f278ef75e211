import { and, eq, sql } from "drizzle-orm";
import type { Db } from "@kombify/service-core/database";
import { stackInstances, type StackInstanceRow } from "../db/schema.js";

export interface ConfiguredInstance {
  name: string;
  region: string;
  deploymentMode: "SHARED" | "DEDICATED";
  maxTenants: number;
  pocketbaseUrl: string;
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
}

/** Tenants on the instance row of the enclosing query (spelled out: drizzle would leave the columns unqualified). */
export const tenantCount = sql<number>`(select count(*)::int from tenant.tenants as placed where placed.instance_id = tenant.stack_instances.id)`;

/** The KombiStack instances tenants are placed on, with their live tenant counts. */
export class InstanceDirectory {
  constructor(private readonly db: Db) {}

  /** Registers (or updates) an instance this deployment is configured with; returns its row. */
  async register(instance: ConfiguredInstance): Promise<StackInstanceRow> {
    const [row] = await this.db
      .insert(stackInstances)
      .values(instance)
      .onConflictDoUpdate({
        target: stackInstances.name,
        set: {
          region: instance.region,
          deploymentMode: instance.deploymentMode,
          maxTenants: instance.maxTenants,
          pocketbaseUrl: instance.pocketbaseUrl,
        },
      })
      .returning();
    return row!;
  }

  async list(): Promise<InstanceSummary[]> {
    const rows = await this.db.select({ row: stackInstances, tenantCount }).from(stackInstances).orderBy(stackInstances.name);
    return rows.map(({ row, tenantCount }) => toSummary(row, tenantCount));
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

  /** Whether a new tenant could be placed now: some healthy instance has room. */
  async canTakeTenants(): Promise<boolean> {
    const [row] = await this.db
      .select({ id: stackInstances.id })
      .from(stackInstances)
      .where(and(eq(stackInstances.healthy, true), sql`${tenantCount} < ${stackInstances.maxTenants}`))
      .limit(1);
    return Boolean(row);
  }

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
  };
}
