export { ALL_ROLES, ANONYMOUS, Role, type Caller, type RequestContext, type SignedInCaller, type TenantRef } from "./caller.js";
export { authChecker, effectiveRoles, requireTenant, requireUser } from "./authorization.js";
export { isPlanTier, PLAN_TIERS, tierCovers, type PlanTier } from "./plan-tier.js";
