import type { Caller } from "@kombify/service-core/auth";

/** Whose limits and budgets a caller draws on: the tenant's, else the user's, else one shared anonymous pool. */
export function quotaAudience(caller: Caller): string {
  if (caller.kind !== "user") return "anonymous";
  return caller.tenant ? `tenant:${caller.tenant.id}` : `user:${caller.userId}`;
}
