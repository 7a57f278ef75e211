import type { Caller } from "@kombify/service-core/auth";

/**
 * Who may share one upstream subscription, one resolution of each event, and the answers of other subgraphs
 * reused for events: callers of the same tenant with the same plan and roles. Those are everything a field
 * asked for in a subscription may depend on; a field that differed per user within a tenant would be resolved
 * for one member of a group and sent to all of them.
 */
export function sharingAudience(caller: Caller): string {
  if (caller.kind !== "user") return "anonymous";
  return JSON.stringify([caller.tenant?.id ?? null, caller.tenant?.plan ?? null, [...caller.roles].sort()]);
}
