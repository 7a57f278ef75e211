import { z } from "zod";
import { buildFederatedSubgraph, resolverContainer } from "@kombify/service-core/federation/subgraph-schema";
import { PlanCatalog, planCatalogSettingsShape } from "@kombify/plan-catalog";
import { defineSubgraph } from "@kombify/service-core/server/subgraph-runtime";
import { billingMigrations } from "./db/schema.js";
import { CheckoutResolver } from "./checkout/checkout.resolver.js";
import { PlanResolver } from "./plan/plan.resolver.js";
import { Tenant } from "./subscription/billing-subscription.type.js";
import { TenantBillingResolver } from "./subscription/tenant-billing.resolver.js";

const billingSettings = {
  STRIPE_SECRET_KEY: z.string().startsWith("sk_").optional().describe("a Stripe secret key (sk_...)"),
};

/** Plans (from configuration) and each tenant's subscription, mirrored from Stripe into PostgreSQL. */
export const billingSubgraph = defineSubgraph({
  name: "billing",
  settings: { ...billingSettings, ...planCatalogSettingsShape },
  async create(runtime, settings) {
    const plans = PlanCatalog.load(settings.PLANS_FILE);
    await runtime.migrate(billingMigrations);
    const subgraph = await buildFederatedSubgraph({
      resolvers: [PlanResolver, TenantBillingResolver, CheckoutResolver],
      container: resolverContainer([
        new PlanResolver(plans),
        new TenantBillingResolver(runtime.db, plans),
        new CheckoutResolver(Boolean(settings.STRIPE_SECRET_KEY)),
      ]),
      orphanedTypes: [Tenant],
      referenceResolvers: { Tenant: { __resolveReference: (reference: Pick<Tenant, "id">) => reference } },
    });
    return { subgraph, readiness: { database: runtime.checks.database } };
  },
});
