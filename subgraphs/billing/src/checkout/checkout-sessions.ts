import { and, eq, inArray } from "drizzle-orm";
import type Stripe from "stripe";
import type { PlanTier, SignedInCaller, TenantRef } from "@kombify/service-core/auth";
import { serializedBy, type Db } from "@kombify/service-core/database";
import { AppError, ErrorCode, errors } from "@kombify/service-core/errors";
import type { Logger } from "@kombify/service-core/logging";
import { billingSubscriptions, stripeCustomers, stripeSubscriptions } from "../db/schema.js";
import { stripeFailure } from "../stripe/stripe-errors.js";
import { PlanPrices, type StripeSettings } from "../stripe/stripe-settings.js";
import { GRANTING_STATUSES } from "../webhook/subscription-state.js";

export interface RedirectTarget {
  url: string;
  expiresAt: Date | null;
}

type ReturnUrls = Pick<StripeSettings, "BILLING_CHECKOUT_SUCCESS_URL" | "BILLING_CHECKOUT_CANCEL_URL" | "BILLING_PORTAL_RETURN_URL">;

/**
 * Stripe Checkout (subscription mode) and the Customer Portal for a tenant's one Stripe customer. The customer is
 * made before the tenant's first checkout, once: concurrent first checkouts queue on the tenant's lock, and the
 * second finds the first's customer (the Stripe call carries an idempotency key too, for a write that failed after it).
 */
export class CheckoutSessions {
  constructor(
    private readonly db: Db,
    private readonly stripe: Stripe,
    private readonly prices: PlanPrices,
    private readonly urls: ReturnUrls,
    private readonly log: Logger,
  ) {}

  async startCheckout(caller: SignedInCaller, tenant: TenantRef, tier: PlanTier): Promise<RedirectTarget> {
    const price = this.prices.priceOf(tier);
    if (!price) throw errors.unavailable(`The ${tier} plan cannot be bought on this deployment (${PlanPrices.variableFor(tier)} is not set).`);
    await this.refuseSecondSubscription(tenant.id);
    const customer = await this.customerFor(caller, tenant);
    let session: Stripe.Checkout.Session;
    try {
      session = await this.stripe.checkout.sessions.create({
        mode: "subscription",
        customer,
        line_items: [{ price, quantity: 1 }],
        // The webhook finds the tenant by any of these: the session's reference, and the subscription's metadata
        // (which Stripe also copies onto each of its invoices).
        client_reference_id: tenant.id,
        metadata: { tenant_id: tenant.id, tier },
        subscription_data: { metadata: { tenant_id: tenant.id } },
        success_url: this.urls.BILLING_CHECKOUT_SUCCESS_URL,
        cancel_url: this.urls.BILLING_CHECKOUT_CANCEL_URL,
      });
    } catch (error) {
      throw stripeFailure(error, `the ${tier} checkout`, this.log, "tier");
    }
    if (!session.url) throw errors.unavailable("Stripe opened a checkout session without a URL; retry in a moment.");
    return { url: session.url, expiresAt: session.expires_at ? new Date(session.expires_at * 1000) : null };
  }

  async openPortal(tenant: TenantRef): Promise<RedirectTarget> {
    const customer = await this.existingCustomer(tenant.id);
    if (!customer) throw new AppError(ErrorCode.NOT_FOUND, "This tenant has no billing account yet: start a checkout (startCheckout) first.");
    try {
      const session = await this.stripe.billingPortal.sessions.create({ customer, return_url: this.urls.BILLING_PORTAL_RETURN_URL });
      return { url: session.url, expiresAt: null };
    } catch (error) {
      throw stripeFailure(error, "the billing portal", this.log);
    }
  }

  /** A tenant with a live subscription changes or cancels it in the portal; a second checkout would bill it twice. */
  private async refuseSecondSubscription(tenantId: string): Promise<void> {
    const [live] = await this.db
      .select({ tier: stripeSubscriptions.planTier, status: stripeSubscriptions.status })
      .from(stripeSubscriptions)
      .where(and(eq(stripeSubscriptions.tenantId, tenantId), inArray(stripeSubscriptions.status, [...GRANTING_STATUSES])));
    // The mirror too: a subscription recorded before Stripe's were kept one by one (an installation upgraded from
    // the previous release) has no row above, and is just as live.
    const [mirrored] = live
      ? []
      : await this.db
          .select({ tier: billingSubscriptions.planTier, status: billingSubscriptions.status })
          .from(billingSubscriptions)
          .where(and(eq(billingSubscriptions.tenantId, tenantId), inArray(billingSubscriptions.status, [...GRANTING_STATUSES])));
    const existing = live ?? mirrored;
    if (existing) {
      throw errors.conflict(`This tenant already has a subscription (${existing.tier ?? "unknown plan"}, ${existing.status}): change or cancel it in the billing portal (openBillingPortal).`);
    }
  }

  private async existingCustomer(tenantId: string): Promise<string | null> {
    const [row] = await this.db.select({ id: stripeCustomers.stripeCustomerId }).from(stripeCustomers).where(eq(stripeCustomers.tenantId, tenantId));
    return row?.id ?? null;
  }

  /** The tenant's Stripe customer, made now if it has none (exactly once, whatever the concurrency). */
  private async customerFor(caller: SignedInCaller, tenant: TenantRef): Promise<string> {
    const existing = await this.existingCustomer(tenant.id);
    if (existing) return existing;
    return serializedBy(this.db, `billing:stripe-customer:${tenant.id}`, async (tx) => {
      const [row] = await tx.select({ id: stripeCustomers.stripeCustomerId }).from(stripeCustomers).where(eq(stripeCustomers.tenantId, tenant.id));
      if (row) return row.id;
      let customer: Stripe.Customer;
      try {
        // No email: Checkout asks for it and keeps it on the customer. The idempotency key (per tenant) answers a
        // retry after a failed write here with the same customer for a day.
        customer = await this.stripe.customers.create(
          { name: tenant.slug, metadata: { tenant_id: tenant.id, tenant_slug: tenant.slug, created_by: caller.userId } },
          { idempotencyKey: `kombify-tenant-customer-${tenant.id}` },
        );
      } catch (error) {
        throw stripeFailure(error, "creating the billing account", this.log);
      }
      await tx.insert(stripeCustomers).values({ tenantId: tenant.id, stripeCustomerId: customer.id });
      this.log.info({ tenantId: tenant.id, customer: customer.id }, "created the tenant's Stripe customer");
      return customer.id;
    });
  }
}
