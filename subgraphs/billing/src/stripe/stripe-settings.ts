import { z } from "zod";
import Stripe from "stripe";
import { ConfigError, envTypes } from "@kombify/service-core/config";
import type { PlanTier } from "@kombify/service-core/auth";
import type { PlanCatalog } from "@kombify/plan-catalog";

const DASHBOARD = "http://localhost:4010/";

/** The billing subgraph's own settings: Stripe, the plans' prices, where Stripe sends people back, the grace period. */
export const stripeSettingsShape = {
  STRIPE_SECRET_KEY: z.string().regex(/^(sk|rk)_/).optional().describe("a Stripe secret key (sk_...) or restricted key (rk_...)"),
  STRIPE_WEBHOOK_SECRET: z.string().startsWith("whsec_").optional().describe("the Stripe webhook endpoint's signing secret (whsec_...)"),
  STRIPE_API_URL: envTypes.url().default("https://api.stripe.com").describe("the Stripe API's base URL (a local stand-in in tests)"),
  STRIPE_PRICE_PRO: z.string().min(1).optional().describe("the Stripe price id (price_...) that buys the PRO plan"),
  STRIPE_PRICE_ENTERPRISE: z.string().min(1).optional().describe("the Stripe price id (price_...) that buys the ENTERPRISE plan"),
  BILLING_CHECKOUT_SUCCESS_URL: envTypes.url().default(`${DASHBOARD}?checkout=success`),
  BILLING_CHECKOUT_CANCEL_URL: envTypes.url().default(`${DASHBOARD}?checkout=cancelled`),
  BILLING_PORTAL_RETURN_URL: envTypes.url().default(DASHBOARD),
  BILLING_PAST_DUE_GRACE_DAYS: z.coerce.number().min(0).max(90).default(7).describe("days (0-90, fractions allowed) a past-due subscription keeps its plan"),
  BILLING_GRACE_SWEEP_MS: z.coerce.number().int().min(100).max(3_600_000).default(5_000).describe("how often (ms, 100-3600000) ended grace periods are looked for and announced"),
};

export type StripeSettings = z.infer<z.ZodObject<typeof stripeSettingsShape>>;

/** Settings that only make sense together. */
export function checkStripeSettings(settings: StripeSettings & { NODE_ENV: string }): void {
  const problems: string[] = [];
  if (settings.STRIPE_PRICE_PRO && settings.STRIPE_PRICE_PRO === settings.STRIPE_PRICE_ENTERPRISE) {
    problems.push("STRIPE_PRICE_PRO and STRIPE_PRICE_ENTERPRISE name the same price: a subscription to it would not say which plan it buys.");
  }
  // Checkout without webhooks takes the money and never grants the plan.
  if (settings.NODE_ENV === "production" && settings.STRIPE_SECRET_KEY && !settings.STRIPE_WEBHOOK_SECRET) {
    problems.push("STRIPE_WEBHOOK_SECRET is required in production when STRIPE_SECRET_KEY is set: without webhooks a checkout never changes the plan.");
  }
  if (problems.length > 0) throw new ConfigError(problems);
}

/** Which plan each Stripe price buys, both ways: from configuration, else from the plan catalog's `stripePriceId`. */
export class PlanPrices {
  private readonly byTier = new Map<PlanTier, string>();
  private readonly byPrice = new Map<string, PlanTier>();

  constructor(settings: Pick<StripeSettings, "STRIPE_PRICE_PRO" | "STRIPE_PRICE_ENTERPRISE">, plans: PlanCatalog) {
    const configured: [PlanTier, string | undefined][] = [
      ["PRO", settings.STRIPE_PRICE_PRO ?? plans.get("PRO").stripePriceId],
      ["ENTERPRISE", settings.STRIPE_PRICE_ENTERPRISE ?? plans.get("ENTERPRISE").stripePriceId],
    ];
    for (const [tier, price] of configured) {
      if (!price) continue;
      this.byTier.set(tier, price);
      this.byPrice.set(price, tier);
    }
  }

  priceOf(tier: PlanTier): string | undefined {
    return this.byTier.get(tier);
  }

  /** The plan a price buys; undefined for a price this deployment does not sell. */
  tierOf(price: string): PlanTier | undefined {
    return this.byPrice.get(price);
  }

  /** The variable that sets a tier's price, for messages. */
  static variableFor(tier: PlanTier): string {
    return `STRIPE_PRICE_${tier}`;
  }
}

/** A Stripe client talking to STRIPE_API_URL (Stripe's API, or a stand-in), or null without a secret key. */
export function stripeClient(settings: Pick<StripeSettings, "STRIPE_SECRET_KEY" | "STRIPE_API_URL">): Stripe | null {
  if (!settings.STRIPE_SECRET_KEY) return null;
  const api = new URL(settings.STRIPE_API_URL);
  const protocol = api.protocol === "http:" ? "http" : "https";
  return new Stripe(settings.STRIPE_SECRET_KEY, {
    host: api.hostname,
    port: api.port || (protocol === "http" ? 80 : 443),
    protocol,
    // A request of a person waiting on a mutation: retried once (with the SDK's idempotency key), never for long.
    maxNetworkRetries: 1,
    timeout: 10_000,
    telemetry: false,
    appInfo: { name: "kombify-billing" },
  });
}
