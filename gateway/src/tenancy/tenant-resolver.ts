import type { PostgresJsDatabase } from "drizzle-orm/postgres-js";
import type { TenantRef } from "@kombify/service-core/auth";
import { tenantOfOrganisation, TENANT_DIRECTORY_CHANNELS } from "@kombify/subgraph-tenant/tenant-directory";

export { TENANT_DIRECTORY_CHANNELS };

/**
 * Organisation → tenant (with its plan), from the tenant subgraph's published directory (the only data the
 * gateway reads), cached briefly. Only found tenants are cached, so a tenant created a moment ago is seen at
 * once; the directory announces every change of a tenant, its instance or its plan with the tenant id, and
 * `forgetTenant` drops that tenant's entry at once.
 */
export class TenantResolver {
  private readonly cache = new Map<string, { tenant: TenantRef; expiresAt: number }>();
  private readonly orgByTenant = new Map<string, string>();

  constructor(
    private readonly db: Pick<PostgresJsDatabase, "select">,
    private readonly ttlMs: number,
  ) {}

  async byOrganisation(orgId: string): Promise<TenantRef | null> {
    const cached = this.cache.get(orgId);
    if (cached && cached.expiresAt > Date.now()) return cached.tenant;
    const entry = await tenantOfOrganisation(this.db, orgId);
    if (!entry) {
      this.forget(orgId);
      return null;
    }
    if (this.ttlMs > 0) {
      this.cache.set(orgId, { tenant: entry.tenant, expiresAt: Date.now() + this.ttlMs });
      this.orgByTenant.set(entry.tenant.id, orgId);
    }
    return entry.tenant;
  }

  forget(orgId: string): void {
    const cached = this.cache.get(orgId);
    if (cached) this.orgByTenant.delete(cached.tenant.id);
    this.cache.delete(orgId);
  }

  /** A directory change event: drops the entry of the tenant it names, if cached. */
  forgetTenant(tenantId: string): void {
    const orgId = this.orgByTenant.get(tenantId);
    if (orgId) this.forget(orgId);
  }
}
