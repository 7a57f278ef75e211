import type { PlanTier } from "./plan-tier.js";

/** Stripe statuses under which the subscribed plan applies; past_due keeps it during Stripe's retry window. */
const STATUSES_THAT_GRANT_THE_PLAN = new Set(["active", "trialing", "past_due"]);

/** A tenant's plan: FREE until a live Stripe subscription (as mirrored) says otherwise. */
export function effectivePlanTier(subscription: { status: string; planTier: PlanTier } | null | undefined): PlanTier {
  return subscription && STATUSES_THAT_GRANT_THE_PLAN.has(subscription.status) ? subscription.planTier : "FREE";
}
