import type { AuthChecker } from "type-graphql";
import { errors } from "../errors/app-error.js";
import { Role, type RequestContext, type SignedInCaller, type TenantRef } from "./caller.js";

/** Roles that include others: an owner may do what an admin may, an admin what a member may. */
const impliedRoles: Record<Role, Role[]> = {
  [Role.PLATFORM_ADMIN]: [Role.PLATFORM_ADMIN],
  [Role.TENANT_OWNER]: [Role.TENANT_OWNER, Role.TENANT_ADMIN, Role.TENANT_MEMBER],
  [Role.TENANT_ADMIN]: [Role.TENANT_ADMIN, Role.TENANT_MEMBER],
  [Role.TENANT_MEMBER]: [Role.TENANT_MEMBER],
};

export function effectiveRoles(caller: SignedInCaller): Set<Role> {
  const granted = caller.roles.length > 0 ? caller.roles : [Role.TENANT_MEMBER];
  return new Set(granted.flatMap((role) => impliedRoles[role] ?? []));
}

/** The caller when signed in; UNAUTHENTICATED otherwise. */
export function requireUser(context: RequestContext): SignedInCaller {
  if (context.caller.kind !== "user") throw errors.unauthenticated();
  return context.caller;
}

/** The caller's tenant; a caller whose organisation has none yet may only create one or launch (FORBIDDEN). */
export function requireTenant(context: RequestContext): TenantRef {
  const caller = requireUser(context);
  if (!caller.tenant) {
    throw errors.forbidden("Your organisation has no tenant yet: create it with createTenant or launchHomelab first.");
  }
  return caller.tenant;
}

/**
 * The single auth checker of every subgraph: `@Authorized()` means signed in,
 * `@Authorized(Role.X, Role.Y)` means any of those roles (with owner ⊃ admin ⊃ member).
 */
export const authChecker: AuthChecker<RequestContext> = ({ context }, roles) => {
  const caller = requireUser(context);
  if (roles.length === 0) return true;
  const held = effectiveRoles(caller);
  if (roles.some((role) => held.has(role as Role))) return true;
  throw errors.forbidden(`This operation needs one of the roles: ${roles.join(", ")}.`);
};

