import { buildFederatedSubgraph, resolverContainer } from "@kombify/service-core/federation/subgraph-schema";
import { PlanCatalog, planCatalogSettingsShape } from "@kombify/plan-catalog";
import { defineSubgraph } from "@kombify/service-core/server/subgraph-runtime";
import { billingMigrations } from "./db/schema.js";
import { CheckoutSessions } from "./checkout/checkout-sessions.js";
import { CheckoutResolver } from "./checkout/checkout.resolver.js";
import { PlanResolver } from "./plan/plan.resolver.js";
import { checkStripeSettings, PlanPrices, stripeClient, stripeSettingsShape } from "./stripe/stripe-settings.js";
import { Tenant } from "./subscription/billing-subscription.type.js";
import { GraceSweeper } from "./subscription/grace-sweeper.js";
import { TenantBillingResolver } from "./subscription/tenant-billing.resolver.js";
import { StripeEventProcessor } from "./webhook/stripe-event-processor.js";
import { stripeWebhookRoute } from "./webhook/stripe-webhook-route.js";

/** The path Stripe (through Kong) posts events to. */
export const STRIPE_WEBHOOK_PATH = "/webhooks/stripe";

/**
 * Plans (from configuration), each tenant's subscription mirrored from Stripe into PostgreSQL by Stripe's
 * webhooks, Checkout and the Customer Portal; billing.effective_plan decides each tenant's plan from them.
 */
export const billingSubgraph = defineSubgraph({
  name: "billing",
  settings: { ...stripeSettingsShape, ...planCatalogSettingsShape },
  check: checkStripeSettings,
  async create(runtime, settings) {
    const plans = PlanCatalog.load(settings.PLANS_FILE);
    const prices = new PlanPrices(settings, plans);
    const stripe = stripeClient(settings);
    await runtime.migrate(billingMigrations);
    const checkout = stripe ? new CheckoutSessions(runtime.db, stripe, prices, settings, runtime.log) : null;
    const events = new StripeEventProcessor(runtime.db, prices, settings.BILLING_PAST_DUE_GRACE_DAYS, runtime.log);
    const sweeper = new GraceSweeper(runtime.db, runtime.log);
    const subgraph = await buildFederatedSubgraph({
      resolvers: [PlanResolver, TenantBillingResolver, CheckoutResolver],
      container: resolverContainer([
        new PlanResolver(plans),
        new TenantBillingResolver(runtime.db, plans),
        new CheckoutResolver(checkout),
      ]),
      orphanedTypes: [Tenant],
      referenceResolvers: { Tenant: { __resolveReference: (reference: Pick<Tenant, "id">) => reference } },
    });
    return {
      subgraph,
      readiness: { database: runtime.checks.database },
      routes: { [`POST ${STRIPE_WEBHOOK_PATH}`]: stripeWebhookRoute(settings.STRIPE_WEBHOOK_SECRET, events) },
      async start() {
        if (!settings.STRIPE_SECRET_KEY) runtime.log.info("STRIPE_SECRET_KEY is not set: checkout and the billing portal answer UNAVAILABLE");
        else if (!settings.STRIPE_WEBHOOK_SECRET) runtime.log.warn("STRIPE_WEBHOOK_SECRET is not set: checkouts succeed but no webhook can change a plan");
        sweeper.start(settings.BILLING_GRACE_SWEEP_MS);
      },
      stop: () => sweeper.stop(),
    };
  },
});
