import { sql } from "drizzle-orm";
import { bigint, boolean, pgSchema, smallint, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { migrationSet } from "@kombify/service-core/database";

/**
 * The billing subgraph's tables. Billing decides each tenant's effective plan, once, in its published
 * `billing.effective_plan(tenant_id)` (see its migrations); the tenant subgraph's directory publishes the answer.
 * Tenant ids are references by value: tenants belong to the tenant subgraph.
 */
export const billingSchema = pgSchema("billing");

export const billingMigrations = migrationSet("billing", "./migrations", import.meta.url);

export const planTier = billingSchema.enum("plan_tier", ["FREE", "PRO", "ENTERPRISE"]);

/** The mirror of each tenant's Stripe subscription; Stripe is the source of truth. */
export const billingSubscriptions = billingSchema.table("billing_subscriptions", {
  tenantId: uuid("tenant_id").primaryKey(),
  stripeCustomerId: text("stripe_customer_id"),
  stripeSubscriptionId: text("stripe_subscription_id"),
  status: text("status").notNull(),
  planTier: planTier("plan_tier").notNull(),
  currentPeriodEnd: timestamp("current_period_end", { withTimezone: true }),
  cancelAtPeriodEnd: boolean("cancel_at_period_end").notNull().default(false),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

/** Stripe event ids already applied: webhooks are retried and arrive out of order. */
export const stripeEvents = billingSchema.table("stripe_events", {
  id: text("id").primaryKey(),
  type: text("type").notNull(),
  receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
});

/** Each tenant's one Stripe customer, made before its first checkout (0001_stripe_sync). */
export const stripeCustomers = billingSchema.table("stripe_customers", {
  tenantId: uuid("tenant_id").primaryKey(),
  stripeCustomerId: text("stripe_customer_id").notNull().unique(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Each Stripe subscription as its newest applied webhook left it: its state (from customer.subscription.*,
 * ordered by the event's `created` and then `stateEventRank`) and its latest invoice's payment (from
 * invoice.paid / invoice.payment_failed, ordered by the invoice's own `created`). See 0001_stripe_sync.sql.
 */
export const stripeSubscriptions = billingSchema.table("stripe_subscriptions", {
  stripeSubscriptionId: text("stripe_subscription_id").primaryKey(),
  tenantId: uuid("tenant_id").notNull(),
  stripeCustomerId: text("stripe_customer_id").notNull(),
  status: text("status"),
  planTier: planTier("plan_tier"),
  priceId: text("price_id"),
  currentPeriodEnd: timestamp("current_period_end", { withTimezone: true }),
  cancelAtPeriodEnd: boolean("cancel_at_period_end").notNull().default(false),
  /** Unix seconds: the `created` of the event whose state this is. */
  stateEventCreated: bigint("state_event_created", { mode: "number" }),
  stateEventRank: smallint("state_event_rank"),
  latestInvoiceId: text("latest_invoice_id"),
  /** Unix seconds: the latest invoice's own `created`. */
  latestInvoiceCreated: bigint("latest_invoice_created", { mode: "number" }),
  latestInvoicePaid: boolean("latest_invoice_paid"),
  /** While past_due, the plan holds until then (the failed invoice's date plus the configured grace). */
  graceEndsAt: timestamp("grace_ends_at", { withTimezone: true }),
  /** Whether the plan change at `graceEndsAt` has been announced (the grace sweeper's mark). */
  graceEndAnnounced: boolean("grace_end_announced").notNull().default(true),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

/** The query for a tenant's effective plan: billing's published function, the one place the plan is decided. */
export const effectivePlanOf = (tenantId: string) => sql`select billing.effective_plan(${tenantId}::uuid) as plan`;

export type BillingSubscriptionRow = typeof billingSubscriptions.$inferSelect;
export type StripeSubscriptionRow = typeof stripeSubscriptions.$inferSelect;
