import { sql } from "drizzle-orm";
import { boolean, pgSchema, text, timestamp, uuid } from "drizzle-orm/pg-core";
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

/** The query for a tenant's effective plan: billing's published function, the one place the plan is decided. */
export const effectivePlanOf = (tenantId: string) => sql`select billing.effective_plan(${tenantId}::uuid) as plan`;

export type BillingSubscriptionRow = typeof billingSubscriptions.$inferSelect;
