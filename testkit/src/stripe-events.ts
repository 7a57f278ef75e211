import { randomBytes } from "node:crypto";
import Stripe from "stripe";

/** Test fixtures: Stripe events shaped as Stripe sends them (API 2026-10-28), and delivering them signed. */

export const WEBHOOK_SECRET = "whsec_kombify_test_secret";
export const PRICES = { PRO: "price_kombify_pro", ENTERPRISE: "price_kombify_enterprise" } as const;

export type StripeStatus = "incomplete" | "trialing" | "active" | "past_due" | "unpaid" | "paused" | "canceled";

export interface EventEnvelope {
  id: string;
  object: "event";
  api_version: string;
  created: number;
  type: string;
  livemode: false;
  pending_webhooks: number;
  request: { id: null; idempotency_key: null };
  data: { object: Record<string, unknown> };
}

export const eventId = () => `evt_${randomBytes(12).toString("hex")}`;
export const nowSeconds = () => Math.floor(Date.now() / 1000);

export function envelope(type: string, created: number, object: Record<string, unknown>, id = eventId()): EventEnvelope {
  return { id, object: "event", api_version: Stripe.API_VERSION, created, type, livemode: false, pending_webhooks: 1, request: { id: null, idempotency_key: null }, data: { object } };
}

export function checkoutCompleted(created: number, tenantId: string, customer: string, subscription: string): EventEnvelope {
  return envelope("checkout.session.completed", created, {
    id: `cs_test_${randomBytes(8).toString("hex")}`,
    object: "checkout.session",
    mode: "subscription",
    status: "complete",
    payment_status: "paid",
    client_reference_id: tenantId,
    customer,
    subscription,
    metadata: { tenant_id: tenantId },
    created,
  });
}

export interface SubscriptionFixture {
  id: string;
  customer: string;
  tenantId: string;
  status: StripeStatus;
  price: string;
  cancelAtPeriodEnd?: boolean;
  periodStart?: number;
  periodEnd?: number;
}

export function subscriptionObject(subscription: SubscriptionFixture, created: number): Record<string, unknown> {
  const periodStart = subscription.periodStart ?? created;
  const periodEnd = subscription.periodEnd ?? periodStart + 30 * 86_400;
  return {
    id: subscription.id,
    object: "subscription",
    customer: subscription.customer,
    status: subscription.status,
    cancel_at_period_end: subscription.cancelAtPeriodEnd ?? false,
    cancel_at: null,
    canceled_at: subscription.status === "canceled" ? created : null,
    created,
    start_date: created,
    metadata: { tenant_id: subscription.tenantId },
    items: {
      object: "list",
      has_more: false,
      data: [
        {
          id: `si_${subscription.id.slice(4)}`,
          object: "subscription_item",
          subscription: subscription.id,
          quantity: 1,
          current_period_start: periodStart,
          current_period_end: periodEnd,
          price: { id: subscription.price, object: "price", recurring: { interval: "month" } },
        },
      ],
    },
  };
}

const SUBSCRIPTION_EVENT_OF: Record<StripeStatus, string> = {
  incomplete: "customer.subscription.created",
  trialing: "customer.subscription.updated",
  active: "customer.subscription.updated",
  past_due: "customer.subscription.updated",
  unpaid: "customer.subscription.updated",
  paused: "customer.subscription.paused",
  canceled: "customer.subscription.deleted",
};

export function subscriptionEvent(subscription: SubscriptionFixture, created: number, type = SUBSCRIPTION_EVENT_OF[subscription.status]): EventEnvelope {
  return envelope(type, created, subscriptionObject(subscription, created));
}

export function invoiceEvent(
  paid: boolean,
  invoice: { id: string; created: number; subscription: string; customer: string; tenantId: string },
  eventCreated: number,
): EventEnvelope {
  return envelope(paid ? "invoice.paid" : "invoice.payment_failed", eventCreated, {
    id: invoice.id,
    object: "invoice",
    customer: invoice.customer,
    created: invoice.created,
    status: paid ? "paid" : "open",
    attempted: true,
    attempt_count: 1,
    billing_reason: "subscription_cycle",
    parent: { type: "subscription_details", quote_details: null, subscription_details: { subscription: invoice.subscription, metadata: { tenant_id: invoice.tenantId } } },
  });
}

export interface Delivery {
  payload: string;
  signature: string;
}

/** The event's bytes and a Stripe-Signature for them (now, or at `timestamp`, with `secret`). */
export function signed(event: EventEnvelope, options: { secret?: string; timestamp?: number } = {}): Delivery {
  const payload = JSON.stringify(event);
  return { payload, signature: Stripe.webhooks.generateTestHeaderString({ payload, secret: options.secret ?? WEBHOOK_SECRET, timestamp: options.timestamp }) };
}

/** POSTs a delivery to the billing subgraph's webhook route. */
export async function deliver(baseUrl: string, delivery: Delivery | EventEnvelope): Promise<{ status: number; body: { received?: boolean; outcome?: string; error?: string } }> {
  const { payload, signature } = "payload" in delivery ? delivery : signed(delivery);
  const response = await fetch(`${baseUrl}/webhooks/stripe`, { method: "POST", headers: { "content-type": "application/json; charset=utf-8", "stripe-signature": signature }, body: payload });
  return { status: response.status, body: (await response.json()) as { received?: boolean; outcome?: string } };
}
