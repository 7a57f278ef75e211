import type Stripe from "stripe";
import type { PlanTier } from "@kombify/service-core/auth";
import type { PlanPrices } from "../stripe/stripe-settings.js";

/** Stripe statuses under which the subscribed plan holds (past_due only until its grace period ends). */
export const GRANTING_STATUSES = ["active", "trialing", "past_due"] as const;

/**
 * Each status's place in a subscription's life, to order two events of one subscription stamped in the same
 * second (Stripe's `created` has whole seconds): the later place wins. That is right for the pairs that do
 * share a second (created `incomplete` then updated `active` by the first payment; a failed renewal turning it
 * `past_due`; a cancellation), and either way the outcome does not depend on which arrived first.
 */
const STATUS_RANK: Record<string, number> = {
  incomplete: 0,
  trialing: 1,
  active: 2,
  past_due: 3,
  unpaid: 4,
  paused: 5,
  incomplete_expired: 6,
  canceled: 6,
};

export function statusRank(status: string): number {
  return STATUS_RANK[status] ?? 0;
}

export function isGranting(status: string): boolean {
  return (GRANTING_STATUSES as readonly string[]).includes(status);
}

/** A subscription's state as one customer.subscription.* event tells it. */
export interface SubscriptionState {
  subscriptionId: string;
  customerId: string;
  status: string;
  /** The plan its price buys; null for a price this deployment does not sell. */
  tier: PlanTier | null;
  priceId: string | null;
  currentPeriodEnd: Date | null;
  cancelAtPeriodEnd: boolean;
  metadataTenantId: string | null;
}

export function idOf(value: string | { id: string } | null | undefined): string | null {
  if (!value) return null;
  return typeof value === "string" ? value : value.id;
}

/** The state in a subscription object; its plan is the highest any of its items' prices buys. */
export function subscriptionState(subscription: Stripe.Subscription, prices: PlanPrices): SubscriptionState {
  let tier: PlanTier | null = null;
  let priceId: string | null = null;
  let periodEnd: number | null = null;
  const order: PlanTier[] = ["FREE", "PRO", "ENTERPRISE"];
  for (const item of subscription.items?.data ?? []) {
    const price = item.price?.id ?? null;
    const itemTier = price ? prices.tierOf(price) : undefined;
    priceId ??= price;
    if (itemTier && (tier === null || order.indexOf(itemTier) > order.indexOf(tier))) {
      tier = itemTier;
      priceId = price;
    }
    if (item.current_period_end) periodEnd = Math.max(periodEnd ?? 0, item.current_period_end);
  }
  // API versions before 2025-03-31 kept the period on the subscription itself.
  periodEnd ??= (subscription as unknown as { current_period_end?: number }).current_period_end ?? null;
  return {
    subscriptionId: subscription.id,
    customerId: idOf(subscription.customer) ?? "",
    status: subscription.status,
    tier,
    priceId,
    currentPeriodEnd: periodEnd ? new Date(periodEnd * 1000) : null,
    cancelAtPeriodEnd: Boolean(subscription.cancel_at_period_end),
    metadataTenantId: subscription.metadata?.tenant_id ?? null,
  };
}

/** What an invoice.paid / invoice.payment_failed event tells of its subscription's latest payment. */
export interface InvoicePayment {
  invoiceId: string;
  /** Unix seconds: the invoice's own creation, which orders a subscription's invoices. */
  invoiceCreated: number;
  subscriptionId: string | null;
  customerId: string | null;
  paid: boolean;
  metadataTenantId: string | null;
}

export function invoicePayment(invoice: Stripe.Invoice, paid: boolean): InvoicePayment {
  const details = invoice.parent?.subscription_details ?? null;
  // API versions before 2025-03-31 named the subscription on the invoice itself.
  const legacy = (invoice as unknown as { subscription?: string | { id: string } | null }).subscription;
  return {
    invoiceId: invoice.id ?? "",
    invoiceCreated: invoice.created,
    subscriptionId: idOf(details?.subscription) ?? idOf(legacy),
    customerId: idOf(invoice.customer),
    paid,
    metadataTenantId: details?.metadata?.tenant_id ?? null,
  };
}
