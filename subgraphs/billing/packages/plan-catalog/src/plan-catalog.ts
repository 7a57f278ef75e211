import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { PLAN_TIERS, type PlanTier } from "@kombify/service-core/auth";

const limitsSchema = z.object({
  requestsPerMinute: z.number().int().positive(),
  maxStacks: z.number().int().nonnegative(),
  maxSimulations: z.number().int().nonnegative(),
  maxNodesPerSimulation: z.number().int().positive(),
  /** The most one operation may cost (its estimated answer size, in values), refused before execution beyond it. */
  maxOperationCost: z.number().int().positive(),
});

const planSchema = z.object({
  tier: z.enum(PLAN_TIERS),
  name: z.string().min(1),
  priceMonthlyCents: z.number().int().nonnegative(),
  /** Stripe price that buys this plan; absent for plans that cannot be bought (FREE). */
  stripePriceId: z.string().optional(),
  limits: limitsSchema,
  features: z.record(z.string(), z.boolean()),
});

export type Plan = z.infer<typeof planSchema>;
export type PlanLimits = z.infer<typeof limitsSchema>;

export const DEFAULT_PLANS_FILE = fileURLToPath(new URL("../../../../../config/plans.json", import.meta.url));

/** The setting of every service that enforces plans: where the plans are defined. */
export const planCatalogSettingsShape = {
  PLANS_FILE: z.string().optional().describe("a path to a plans JSON file"),
};

/** The plans offered, from configuration (config/plans.json or PLANS_FILE), validated once at start. */
export class PlanCatalog {
  private constructor(private readonly plans: Map<PlanTier, Plan>) {}

  static load(path: string = DEFAULT_PLANS_FILE): PlanCatalog {
    const parsed = z
      .object({ plans: z.array(planSchema) })
      .safeParse(JSON.parse(readFileSync(path, "utf8")));
    if (!parsed.success) throw new Error(`Plans file ${path} is invalid: ${parsed.error.message}`);
    const plans = new Map(parsed.data.plans.map((plan) => [plan.tier, plan]));
    const missing = PLAN_TIERS.filter((tier) => !plans.has(tier));
    if (missing.length > 0) throw new Error(`Plans file ${path} lacks the tiers ${missing.join(", ")}.`);
    return new PlanCatalog(plans);
  }

  all(): Plan[] {
    return PLAN_TIERS.map((tier) => this.get(tier));
  }

  get(tier: PlanTier): Plan {
    const plan = this.plans.get(tier);
    if (!plan) throw new Error(`No plan for tier ${tier}`);
    return plan;
  }

}
