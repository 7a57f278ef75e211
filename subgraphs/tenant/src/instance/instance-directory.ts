import { eq, sql } from "drizzle-orm";
import { tables, type Db, type StackInstanceRow } from "@kombify/service-core";
import type { StackInstance } from "./stack-instance.type.js";

export interface ConfiguredInstance {
  name: string;
  region: string;
  deploymentMode: "SHARED" | "DEDICATED";
  maxTenants: number;
  pocketbaseUrl: string;
}

/** Tenants on the instance row of the enclosing query (spelled out: drizzle would leave the columns unqualified). */
export const tenantCount = sql<number>`(select count(*)::int from tenants as placed where placed.instance_id = stack_instances.id)`;

/** The KombiStack instances tenants are placed on, with their live tenant counts. */
export class InstanceDirectory {
  constructor(private readonly db: Db) {}

  /** Registers (or updates) the instance this deployment is configured with; returns its row. */
  async register(instance: ConfiguredInstance): Promise<StackInstanceRow> {
    const [row] = await this.db
      .insert(tables.stackInstances)
      .values(instance)
      .onConflictDoUpdate({
        target: tables.stackInstances.name,
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

  async list(): Promise<StackInstance[]> {
    const rows = await this.db
      .select({ row: tables.stackInstances, tenantCount })
      .from(tables.stackInstances)
      .orderBy(tables.stackInstances.name);
    return rows.map(({ row, tenantCount }) => toStackInstance(row, tenantCount));
  }

  async get(id: string): Promise<StackInstance | null> {
    const [found] = await this.db
      .select({ row: tables.stackInstances, tenantCount })
      .from(tables.stackInstances)
      .where(eq(tables.stackInstances.id, id));
    return found ? toStackInstance(found.row, found.tenantCount) : null;
  }
}

function toStackInstance(row: StackInstanceRow, count: number): StackInstance {
  return {
    id: row.id,
    name: row.name,
    region: row.region,
    deploymentMode: row.deploymentMode as StackInstance["deploymentMode"],
    maxTenants: row.maxTenants,
    tenantCount: count,
    healthy: row.healthy,
  };
}
