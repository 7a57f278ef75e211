import { eq } from "drizzle-orm";
import { effectivePlanTier, tables, type Db, type TenantRef } from "@kombify/service-core";

export const TENANT_CHANGED_CHANNEL = "kombify_tenant_changed";

/**
 * Organisation → tenant (with its plan), cached briefly. Only found tenants are cached, so a tenant
 * created a moment ago is seen at once; PostgreSQL notifies every change of a tenant or its plan
 * (see migration 0001), and `forget` drops that organisation's entry at once.
 */
export class TenantResolver {
  private readonly cache = new Map<string, { tenant: TenantRef; expiresAt: number }>();

  constructor(
    private readonly db: Db,
    private readonly ttlMs: number,
  ) {}

  async byOrganisation(orgId: string): Promise<TenantRef | null> {
    const cached = this.cache.get(orgId);
    if (cached && cached.expiresAt > Date.now()) return cached.tenant;
    const [row] = await this.db
      .select({
        id: tables.tenants.id,
        slug: tables.tenants.slug,
        status: tables.billingSubscriptions.status,
        planTier: tables.billingSubscriptions.planTier,
      })
      .from(tables.tenants)
      .leftJoin(tables.billingSubscriptions, eq(tables.billingSubscriptions.tenantId, tables.tenants.id))
      .where(eq(tables.tenants.zitadelOrgId, orgId));
    if (!row) {
      this.cache.delete(orgId);
      return null;
    }
    const subscription = row.status && row.planTier ? { status: row.status, planTier: row.planTier } : null;
    const tenant: TenantRef = { id: row.id, slug: row.slug, plan: effectivePlanTier(subscription) };
    if (this.ttlMs > 0) this.cache.set(orgId, { tenant, expiresAt: Date.now() + this.ttlMs });
    return tenant;
  }

  forget(orgId: string): void {
    this.cache.delete(orgId);
  }
}
