import type { Caller } from "@kombify/service-core";

/**
 * Who may share one upstream subscription, and one answer of another subgraph, in the gateway: callers of the
 * same tenant with the same plan and roles, which is everything a subgraph's answer may depend on.
 */
export function sharingAudience(caller: Caller): string {
  if (caller.kind !== "user") return "anonymous";
  return JSON.stringify([caller.tenant?.id ?? null, caller.tenant?.plan ?? null, [...caller.roles].sort()]);
}
