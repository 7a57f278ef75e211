import { tierCovers, type PlanTier } from "@kombify/service-core/auth";
import { errors } from "@kombify/service-core/errors";
import type { PlanCatalog, PlanLimits } from "./plan-catalog.js";

/** Whether a plan covers something of tier `required`; needs no catalog (tiers are ordered), so any service may ask. */
export function planCovers(plan: PlanTier, required: PlanTier): boolean {
  return tierCovers(plan, required);
}

/** PLAN_REQUIRED (with `requiredTier`) unless the plan covers `required`; `what` names the thing in the message. */
export function assertPlanCovers(plan: PlanTier, required: PlanTier, what: string): void {
  if (!tierCovers(plan, required)) throw errors.planRequired(`${what} needs the ${required} plan; your tenant is on ${plan}.`, required);
}

/** What a plan counts: each quota's limit in the plan catalog, and the words its refusal uses. */
const QUOTAS = {
  stacks: { limit: "maxStacks", noun: "stacks", remedy: "delete one or upgrade" },
  simulations: { limit: "maxSimulations", noun: "simulations", remedy: "delete one or upgrade" },
  nodesPerSimulation: { limit: "maxNodesPerSimulation", noun: "nodes per simulation", remedy: "ask for fewer or upgrade" },
} as const satisfies Record<string, { limit: keyof PlanLimits; noun: string; remedy: string }>;

export type Quota = keyof typeof QUOTAS;

/**
 * What a plan entitles a tenant to, in one place, for every enforcement point: the gateway's rate limit, the
 * stack and simulation quotas (QUOTA_EXCEEDED with `limit`), StackKit tiers (PLAN_REQUIRED with `requiredTier`),
 * feature flags and the ceiling on one operation's cost. The plan itself comes from the tenant directory (billing
 * decides it); the numbers from the plan catalog (configuration).
 */
export class Entitlements {
  constructor(private readonly plans: PlanCatalog) {}

  requestsPerMinute(plan: PlanTier): number {
    return this.plans.get(plan).limits.requestsPerMinute;
  }

  /** The most one operation may cost on this plan (estimated before execution). */
  maxOperationCost(plan: PlanTier): number {
    return this.plans.get(plan).limits.maxOperationCost;
  }

  limit(plan: PlanTier, quota: Quota): number {
    return this.plans.get(plan).limits[QUOTAS[quota].limit];
  }

  /** QUOTA_EXCEEDED (with `limit`) when `count` more would go beyond the plan's limit, having `current` already. */
  assertWithinQuota(plan: PlanTier, quota: Quota, current: number, count = 1): void {
    const limit = this.limit(plan, quota);
    if (current + count > limit) {
      const { noun, remedy } = QUOTAS[quota];
      throw errors.quotaExceeded(`Your ${plan} plan allows ${limit} ${noun} (limit ${limit}); ${remedy}.`, limit);
    }
  }

  /** Whether the plan covers something of tier `required` (a StackKit). */
  covers(plan: PlanTier, required: PlanTier): boolean {
    return planCovers(plan, required);
  }

  assertCovers(plan: PlanTier, required: PlanTier, what: string): void {
    assertPlanCovers(plan, required, what);
  }

  /** The plan's feature flags (before per-tenant overrides). */
  features(plan: PlanTier): Record<string, boolean> {
    return this.plans.get(plan).features;
  }
}
