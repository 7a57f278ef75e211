export const PLAN_TIERS = ["FREE", "PRO", "ENTERPRISE"] as const;
export type PlanTier = (typeof PLAN_TIERS)[number];

export function isPlanTier(value: unknown): value is PlanTier {
  return typeof value === "string" && (PLAN_TIERS as readonly string[]).includes(value);
}

/** Whether a plan of tier `held` covers something that needs tier `required`. */
export function tierCovers(held: PlanTier, required: PlanTier): boolean {
  return PLAN_TIERS.indexOf(held) >= PLAN_TIERS.indexOf(required);
}
