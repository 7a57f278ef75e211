import type { PlanTier } from "./plan-tier.js";

export const Role = {
  PLATFORM_ADMIN: "platform:admin",
  TENANT_OWNER: "tenant:owner",
  TENANT_ADMIN: "tenant:admin",
  TENANT_MEMBER: "tenant:member",
} as const;
export type Role = (typeof Role)[keyof typeof Role];
export const ALL_ROLES: readonly Role[] = Object.values(Role);

/** The tenant a caller acts for, as the gateway resolved it from the verified token's organisation. */
export interface TenantRef {
  id: string;
  slug: string;
  plan: PlanTier;
}

export interface SignedInCaller {
  kind: "user";
  userId: string;
  email: string | null;
  name: string | null;
  orgId: string | null;
  /** The organisation's display name, when the token carries it. */
  orgName: string | null;
  roles: Role[];
  /** null while the caller's organisation has no tenant yet. */
  tenant: TenantRef | null;
}

export type Caller = { kind: "anonymous" } | SignedInCaller;

export const ANONYMOUS: Caller = Object.freeze({ kind: "anonymous" });

/** What every resolver of every subgraph receives. */
export interface RequestContext {
  caller: Caller;
  requestId: string;
  /**
   * The client's address as the gateway counts it (an IPv6 address by its /64), from the signed context; absent
   * when the gateway did not say (a direct call, a subscription group's event fetches).
   */
  clientAddress?: string;
}
