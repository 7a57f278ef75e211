import { eq, sql } from "drizzle-orm";
import type Stripe from "stripe";
import type { Db, Transaction } from "@kombify/service-core/database";
import { isUuid } from "@kombify/service-core/identifiers";
import type { Logger } from "@kombify/service-core/logging";
import { stripeCustomers, stripeEvents, stripeSubscriptions } from "../db/schema.js";
import { PlanPrices } from "../stripe/stripe-settings.js";
import { chooseTenantSubscription } from "../subscription/tenant-subscription-choice.js";
import { idOf, invoicePayment, isGranting, statusRank, subscriptionState, type InvoicePayment } from "./subscription-state.js";

/** What became of one event: its effect applied (or found stale), seen before, or not ours to act on. */
export type EventOutcome = "applied" | "stale" | "duplicate" | "unhandled" | "unknown-tenant";

/** A subscription whose price this deployment does not sell cannot be given a plan: Stripe retries it once configured. */
export class UnknownPriceError extends Error {}

const SUBSCRIPTION_EVENTS = new Set([
  "customer.subscription.created",
  "customer.subscription.updated",
  "customer.subscription.deleted",
  "customer.subscription.paused",
  "customer.subscription.resumed",
]);

/**
 * Applies verified Stripe events to billing's tables. Each event runs in one transaction that first records its
 * id (billing.stripe_events): a second delivery finds it and changes nothing, and an effect that fails rolls
 * the record back with it, so Stripe's retry applies it whole. Effects for one tenant are serialised by a
 * transaction lock, so the tenant's row in billing_subscriptions is always chosen from all its subscriptions.
 */
export class StripeEventProcessor {
  constructor(
    private readonly db: Db,
    private readonly prices: PlanPrices,
    private readonly graceDays: number,
    private readonly log: Logger,
  ) {}

  process(event: Stripe.Event): Promise<EventOutcome> {
    return this.db.transaction(async (tx) => {
      const recorded = await tx.insert(stripeEvents).values({ id: event.id, type: event.type }).onConflictDoNothing().returning({ id: stripeEvents.id });
      if (recorded.length === 0) return "duplicate";
      if (event.type === "checkout.session.completed") return this.checkoutCompleted(tx, event.data.object);
      if (SUBSCRIPTION_EVENTS.has(event.type)) return this.subscriptionChanged(tx, event, event.data.object as Stripe.Subscription);
      if (event.type === "invoice.paid" || event.type === "invoice.payment_failed") {
        return this.invoiceSettled(tx, invoicePayment(event.data.object, event.type === "invoice.paid"));
      }
      return "unhandled";
    });
  }

  /** Links the tenant (the session's reference) to its customer and subscription; their state follows in their own events. */
  private async checkoutCompleted(tx: Transaction, session: Stripe.Checkout.Session): Promise<EventOutcome> {
    const tenantId = validTenantId(session.client_reference_id) ?? validTenantId(session.metadata?.tenant_id);
    const customerId = idOf(session.customer);
    const subscriptionId = idOf(session.subscription);
    if (session.mode !== "subscription" || !customerId) return "unhandled";
    if (!tenantId) return "unknown-tenant";
    await this.lockTenant(tx, tenantId);
    const linked = await tx.insert(stripeCustomers).values({ tenantId, stripeCustomerId: customerId }).onConflictDoNothing().returning({ id: stripeCustomers.stripeCustomerId });
    if (linked.length === 0) {
      const [known] = await tx.select().from(stripeCustomers).where(eq(stripeCustomers.tenantId, tenantId));
      if (known && known.stripeCustomerId !== customerId) this.log.warn({ tenantId, customerId, known: known.stripeCustomerId }, "a checkout completed for a customer other than the tenant's own; keeping the tenant's");
    }
    if (subscriptionId) {
      await tx.insert(stripeSubscriptions).values({ stripeSubscriptionId: subscriptionId, tenantId, stripeCustomerId: customerId }).onConflictDoNothing();
    }
    return "applied";
  }

  /**
   * The subscription's state, unless this subscription already holds a newer one. Newer means a later event
   * `created` (the subscription object has no "updated at" of its own, and every event carries the object as it
   * was at that moment), then, within one second, a later lifecycle status (statusRank). So replays and events
   * arriving out of order leave the newest state Stripe sent, whichever order they came in.
   */
  private async subscriptionChanged(tx: Transaction, event: Stripe.Event, subscription: Stripe.Subscription): Promise<EventOutcome> {
    const state = subscriptionState(subscription, this.prices);
    const tenantId = await this.tenantOf(tx, state.subscriptionId, state.customerId, state.metadataTenantId);
    if (!tenantId) return "unknown-tenant";
    if (state.tier === null && isGranting(state.status)) {
      throw new UnknownPriceError(
        `Subscription ${state.subscriptionId} is ${state.status} on price ${state.priceId ?? "(none)"}, which no plan is sold at here (STRIPE_PRICE_PRO, STRIPE_PRICE_ENTERPRISE).`,
      );
    }
    await this.lockTenant(tx, tenantId);
    const values = {
      status: state.status,
      planTier: state.tier,
      priceId: state.priceId,
      currentPeriodEnd: state.currentPeriodEnd,
      cancelAtPeriodEnd: state.cancelAtPeriodEnd,
      stateEventCreated: event.created,
      stateEventRank: statusRank(state.status),
      updatedAt: new Date(),
    };
    const changed = await tx
      .insert(stripeSubscriptions)
      .values({ stripeSubscriptionId: state.subscriptionId, tenantId, stripeCustomerId: state.customerId, ...values })
      .onConflictDoUpdate({
        target: stripeSubscriptions.stripeSubscriptionId,
        set: values,
        setWhere: sql`${stripeSubscriptions.stateEventCreated} is null
          or (${event.created}::bigint, ${values.stateEventRank}::smallint) > (${stripeSubscriptions.stateEventCreated}, ${stripeSubscriptions.stateEventRank})`,
      })
      .returning({ id: stripeSubscriptions.stripeSubscriptionId });
    if (changed.length === 0) return "stale";
    await chooseTenantSubscription(tx, tenantId);
    return "applied";
  }

  /**
   * The subscription's latest payment, unless a later invoice (by its own `created`, then id) is already known,
   * or this same invoice is already paid. A failed one starts the grace period: the invoice's date plus the
   * configured days, a moment every retry and replay of it agrees on.
   */
  private async invoiceSettled(tx: Transaction, payment: InvoicePayment): Promise<EventOutcome> {
    if (!payment.subscriptionId || !payment.customerId) return "unhandled";
    const tenantId = await this.tenantOf(tx, payment.subscriptionId, payment.customerId, payment.metadataTenantId);
    if (!tenantId) return "unknown-tenant";
    await this.lockTenant(tx, tenantId);
    const graceEndsAt = payment.paid ? null : new Date((payment.invoiceCreated + this.graceDays * 86_400) * 1000);
    const values = {
      latestInvoiceId: payment.invoiceId,
      latestInvoiceCreated: payment.invoiceCreated,
      latestInvoicePaid: payment.paid,
      graceEndsAt,
      // A grace period that has already ended is announced by this very change (the mirror's row is touched below).
      graceEndAnnounced: graceEndsAt === null || graceEndsAt.getTime() <= Date.now(),
      updatedAt: new Date(),
    };
    const changed = await tx
      .insert(stripeSubscriptions)
      .values({ stripeSubscriptionId: payment.subscriptionId, tenantId, stripeCustomerId: payment.customerId, ...values })
      .onConflictDoUpdate({
        target: stripeSubscriptions.stripeSubscriptionId,
        set: values,
        setWhere: sql`${stripeSubscriptions.latestInvoiceCreated} is null
          or (${payment.invoiceCreated}::bigint, ${payment.invoiceId}::text, ${payment.paid}::boolean)
             > (${stripeSubscriptions.latestInvoiceCreated}, ${stripeSubscriptions.latestInvoiceId}, ${stripeSubscriptions.latestInvoicePaid})`,
      })
      .returning({ id: stripeSubscriptions.stripeSubscriptionId });
    if (changed.length === 0) return "stale";
    await chooseTenantSubscription(tx, tenantId);
    return "applied";
  }

  /**
   * The tenant whose subscription this is: the one it is already filed under, else the customer's (linked when
   * kombify made the customer, or at checkout), else the tenant id kombify put in the subscription's metadata.
   */
  private async tenantOf(tx: Transaction, subscriptionId: string, customerId: string, metadataTenantId: string | null): Promise<string | null> {
    const [filed] = await tx.select({ tenantId: stripeSubscriptions.tenantId }).from(stripeSubscriptions).where(eq(stripeSubscriptions.stripeSubscriptionId, subscriptionId));
    if (filed) return filed.tenantId;
    const [customer] = await tx.select({ tenantId: stripeCustomers.tenantId }).from(stripeCustomers).where(eq(stripeCustomers.stripeCustomerId, customerId));
    return customer?.tenantId ?? validTenantId(metadataTenantId);
  }

  private async lockTenant(tx: Transaction, tenantId: string): Promise<void> {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`billing:tenant:${tenantId}`}))`);
  }

}

function validTenantId(value: string | null | undefined): string | null {
  return value && isUuid(value) ? value : null;
}
