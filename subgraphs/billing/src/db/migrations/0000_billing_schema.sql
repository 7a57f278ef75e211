-- Billing's tables move from public (where every subgraph's tables lived before each had its own schema) into
-- billing, keeping every row; on a new installation they are created here. The key into tenants is dropped:
-- tenants belong to the tenant subgraph, and billing keeps their ids by value.
CREATE SCHEMA IF NOT EXISTS "billing";
--> statement-breakpoint
SELECT platform.adopt_shared_type('plan_tier', 'billing');
--> statement-breakpoint
SELECT platform.adopt_shared_table('billing_subscriptions', 'billing', ARRAY['billing_subscriptions_tenant_id_tenants_id_fk']);
--> statement-breakpoint
SELECT platform.adopt_shared_table('stripe_events', 'billing');
--> statement-breakpoint
DO $$ BEGIN
  CREATE TYPE "billing"."plan_tier" AS ENUM('FREE', 'PRO', 'ENTERPRISE');
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "billing"."billing_subscriptions" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"stripe_customer_id" text,
	"stripe_subscription_id" text,
	"status" text NOT NULL,
	"plan_tier" "billing"."plan_tier" NOT NULL,
	"current_period_end" timestamp with time zone,
	"cancel_at_period_end" boolean DEFAULT false NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "billing"."stripe_events" (
	"id" text PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
-- The one place a tenant's effective plan is decided: the subscribed plan while Stripe's status grants it
-- (past_due keeps it during Stripe's retry window), FREE otherwise and for tenants with no subscription.
CREATE OR REPLACE VIEW "billing"."effective_plans" AS
  SELECT tenant_id,
         CASE WHEN status IN ('active', 'trialing', 'past_due') THEN plan_tier::text ELSE 'FREE' END AS plan
  FROM billing.billing_subscriptions;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION billing.effective_plan(tenant_id uuid) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT COALESCE((SELECT plan FROM billing.effective_plans p WHERE p.tenant_id = effective_plan.tenant_id), 'FREE');
$$;
--> statement-breakpoint
-- Billing's plan-change event (payload: the tenant id): the tenant directory's readers drop a cached entry on it.
CREATE OR REPLACE FUNCTION billing.notify_plan_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('kombify_plan_changed', COALESCE(NEW.tenant_id, OLD.tenant_id)::text);
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER billing_subscriptions_changed AFTER INSERT OR UPDATE OR DELETE ON billing.billing_subscriptions
  FOR EACH ROW EXECUTE FUNCTION billing.notify_plan_changed();
