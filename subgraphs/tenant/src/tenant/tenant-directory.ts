import { asc, eq } from "drizzle-orm";
import {
  errors,
  isUuid,
  provisionNamespace,
  tables,
  type Db,
  type NamespaceResolver,
  type TenantRow,
} from "@kombify/service-core";
import { tenantCount } from "../instance/instance-directory.js";

export interface NewTenant {
  name: string;
  slug: string;
  zitadelOrgId: string;
}

const UNIQUE_VIOLATION = "23505";

/** Tenant records in PostgreSQL and their PocketBase namespaces, created together. */
export class TenantDirectory {
  constructor(
    private readonly db: Db,
    private readonly namespaces: NamespaceResolver,
  ) {}

  async byId(id: string): Promise<TenantRow | null> {
    if (!isUuid(id)) return null;
    const [row] = await this.db.select().from(tables.tenants).where(eq(tables.tenants.id, id));
    return row ?? null;
  }

  async byOrganisation(orgId: string): Promise<TenantRow | null> {
    const [row] = await this.db.select().from(tables.tenants).where(eq(tables.tenants.zitadelOrgId, orgId));
    return row ?? null;
  }

  /**
   * Places the tenant on the healthy instance with the most room (locking instance rows so two creations
   * cannot overfill one), then creates its namespace; if the namespace cannot be made, the row is removed.
   */
  async create(input: NewTenant): Promise<TenantRow> {
    const tenant = await this.db.transaction(async (tx) => {
      const candidates = await tx
        .select({
          id: tables.stackInstances.id,
          maxTenants: tables.stackInstances.maxTenants,
          tenantCount,
        })
        .from(tables.stackInstances)
        .where(eq(tables.stackInstances.healthy, true))
        .orderBy(asc(tables.stackInstances.name))
        .for("update");
      const instance = candidates
        .filter((candidate) => candidate.tenantCount < candidate.maxTenants)
        .sort((a, b) => a.tenantCount / a.maxTenants - b.tenantCount / b.maxTenants)[0];
      if (!instance) throw errors.unavailable("No healthy KombiStack instance has room for another tenant.");
      try {
        const [row] = await tx.insert(tables.tenants).values({ ...input, instanceId: instance.id }).returning();
        return row!;
      } catch (error) {
        throw uniqueViolationToConflict(error, input);
      }
    });
    try {
      const namespace = await this.namespaces.resolve({ id: tenant.id, slug: tenant.slug, plan: "FREE" });
      await provisionNamespace(namespace);
    } catch (error) {
      await this.db.delete(tables.tenants).where(eq(tables.tenants.id, tenant.id));
      throw error;
    }
    return tenant;
  }
}

function uniqueViolationToConflict(error: unknown, input: NewTenant): unknown {
  const cause = (error as { cause?: { code?: string; constraint_name?: string } }).cause ?? (error as { code?: string; constraint_name?: string });
  if (cause?.code !== UNIQUE_VIOLATION) return error;
  return cause.constraint_name?.includes("slug")
    ? errors.conflict(`The slug "${input.slug}" is taken; choose another.`)
    : errors.conflict("Your organisation already has a tenant.");
}
