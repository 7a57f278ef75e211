import type { Caller } from "@kombify/service-core/auth";
import { planCovers } from "@kombify/plan-catalog";
import type { StackKitDefinition } from "@kombify/stackkit-catalog";
import type { StackKit } from "./stackkit.type.js";

/** The public view of a kit definition, with `entitled` computed for this caller's plan. */
export function toStackKit(kit: StackKitDefinition, caller: Caller): StackKit {
  const plan = caller.kind === "user" ? caller.tenant?.plan : undefined;
  return {
    id: kit.id,
    name: kit.name,
    version: kit.version,
    description: kit.description,
    tier: kit.tier,
    services: kit.services,
    entitled: plan !== undefined && planCovers(plan, kit.tier),
  };
}
