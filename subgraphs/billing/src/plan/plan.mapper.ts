import type { Plan as PlanDefinition } from "@kombify/plan-catalog";
import type { Plan } from "./plan.type.js";

export function toPlan(plan: PlanDefinition): Plan {
  return {
    tier: plan.tier,
    name: plan.name,
    priceMonthlyCents: plan.priceMonthlyCents,
    limits: plan.limits,
    features: Object.entries(plan.features).map(([key, enabled]) => ({ key, enabled })),
  };
}
