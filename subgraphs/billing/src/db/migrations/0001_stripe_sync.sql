-- Stripe, synchronised: each tenant's one Stripe customer, each Stripe subscription's newest known state (so
-- webhooks that arrive late, twice or out of order cannot roll it back), and a grace period for past-due
-- subscriptions that the effective plan honours. New tables only: the mirror's rows keep their shape.

-- A tenant's one Stripe customer, made before its first checkout (never twice: a unique key on each side).
CREATE TABLE IF NOT EXISTS "billing"."stripe_customers" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"stripe_customer_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "stripe_customers_stripe_customer_id_unique" UNIQUE ("stripe_customer_id")
);
--> statement-breakpoint
-- Customers the mirror already knew (an installation billing before this release) stay each tenant's customer.
INSERT INTO "billing"."stripe_customers" ("tenant_id", "stripe_customer_id")
  SELECT DISTINCT ON (stripe_customer_id) tenant_id, stripe_customer_id
  FROM billing.billing_subscriptions
  WHERE stripe_customer_id IS NOT NULL
  ORDER BY stripe_customer_id, updated_at DESC
ON CONFLICT DO NOTHING;
--> statement-breakpoint
-- Each Stripe subscription as its newest applied webhook left it, in two parts with their own ordering:
--  * its state (status, tier, period), from customer.subscription.* events, ordered by the event's `created`
--    (a subscription object carries no "updated at" of its own) with `state_event_rank` (its status's place
--    in the lifecycle) breaking ties within one second;
--  * its latest invoice's payment, from invoice.paid / invoice.payment_failed, ordered by the invoice's own
--    `created`, then its id, then paid over failed (a paid invoice stays paid).
-- billing_subscriptions holds, per tenant, the one of these that decides its plan; the grace period is read here.
CREATE TABLE IF NOT EXISTS "billing"."stripe_subscriptions" (
	"stripe_subscription_id" text PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"stripe_customer_id" text NOT NULL,
	"status" text,
	"plan_tier" "billing"."plan_tier",
	"price_id" text,
	"current_period_end" timestamp with time zone,
	"cancel_at_period_end" boolean DEFAULT false NOT NULL,
	"state_event_created" bigint,
	"state_event_rank" smallint,
	"latest_invoice_id" text,
	"latest_invoice_created" bigint,
	"latest_invoice_paid" boolean,
	"grace_ends_at" timestamp with time zone,
	"grace_end_announced" boolean DEFAULT true NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "stripe_subscriptions_tenant_id_idx" ON "billing"."stripe_subscriptions" ("tenant_id");
--> statement-breakpoint
-- What the grace sweeper looks for: grace periods that have ended and not yet been announced.
CREATE INDEX IF NOT EXISTS "stripe_subscriptions_grace_due_idx" ON "billing"."stripe_subscriptions" ("grace_ends_at") WHERE NOT "grace_end_announced";
--> statement-breakpoint
-- Still the one place a tenant's effective plan is decided: the subscribed plan while Stripe's status grants it;
-- past_due grants it until its grace period ends (the failed invoice's date plus BILLING_PAST_DUE_GRACE_DAYS,
-- known once invoice.payment_failed arrived; a mirror row with no Stripe subscription behind it has none);
-- FREE otherwise (canceled, unpaid, paused, incomplete, ...) and for tenants with no subscription.
CREATE OR REPLACE VIEW "billing"."effective_plans" AS
  SELECT b.tenant_id,
         CASE
           WHEN b.status IN ('active', 'trialing') THEN b.plan_tier::text
           WHEN b.status = 'past_due' AND (s.grace_ends_at IS NULL OR now() < s.grace_ends_at) THEN b.plan_tier::text
           ELSE 'FREE'
         END AS plan
  FROM billing.billing_subscriptions b
  LEFT JOIN billing.stripe_subscriptions s ON s.stripe_subscription_id = b.stripe_subscription_id;
