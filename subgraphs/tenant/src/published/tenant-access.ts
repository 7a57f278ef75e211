import { effectiveRoles, requireUser, Role, type RequestContext } from "@kombify/service-core/auth";
import { errors } from "@kombify/service-core/errors";
import { isUuid } from "@kombify/service-core/identifiers";
import type { Db } from "@kombify/service-core/database";
import { tenantBelongsTo } from "./tenant-directory.js";

/**
 * Whether the caller may read the tenant reached by reference (`Tenant { id }` from another subgraph): its
 * own tenant, one that belongs to its organisation (created by this very request, say, before the context
 * knew it), or any tenant for a platform admin. Asked of the published tenant directory, so billing may use it.
 */
export async function mayReadTenant(db: Db, context: RequestContext, tenantId: string): Promise<boolean> {
  const caller = context.caller;
  if (caller.kind !== "user") return false;
  if (caller.tenant?.id === tenantId || effectiveRoles(caller).has(Role.PLATFORM_ADMIN)) return true;
  if (!caller.orgId || !isUuid(tenantId)) return false;
  return tenantBelongsTo(db, tenantId, caller.orgId);
}

/** mayReadTenant, as UNAUTHENTICATED for anonymous callers and NOT_FOUND (not FORBIDDEN: no hint it exists) otherwise. */
export async function assertMayReadTenant(db: Db, context: RequestContext, tenantId: string): Promise<void> {
  requireUser(context);
  if (!(await mayReadTenant(db, context, tenantId))) throw errors.notFound("Tenant", tenantId);
}
