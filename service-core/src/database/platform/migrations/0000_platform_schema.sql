-- The kernel's tables move from public (where every table lived before each subgraph had its own schema) into
-- platform, keeping every row; on a new installation they are created here. Constraints that pointed into
-- another owner's tables are dropped: tenant ids are kept by value.
CREATE SCHEMA IF NOT EXISTS "platform";
--> statement-breakpoint
DO $$
BEGIN
  -- The shared era's change notifiers were the kernel's, and read tables by unqualified names that are about to
  -- move: they go first (every service applies this set before its own); each owner installs its own with its tables.
  IF to_regclass('public.tenants') IS NOT NULL THEN DROP TRIGGER IF EXISTS tenants_changed ON public.tenants; END IF;
  IF to_regclass('public.billing_subscriptions') IS NOT NULL THEN DROP TRIGGER IF EXISTS billing_subscriptions_changed ON public.billing_subscriptions; END IF;
  IF to_regclass('public.simulations') IS NOT NULL THEN DROP TRIGGER IF EXISTS simulations_changed ON public.simulations; END IF;
  IF to_regclass('public.simulation_nodes') IS NOT NULL THEN DROP TRIGGER IF EXISTS simulation_nodes_changed ON public.simulation_nodes; END IF;
  DROP FUNCTION IF EXISTS public.kombify_notify_tenant_changed();
  DROP FUNCTION IF EXISTS public.kombify_notify_simulation_changed();
  IF to_regclass('public.installation') IS NOT NULL AND to_regclass('platform.installation') IS NULL THEN
    ALTER TABLE public.installation SET SCHEMA platform;
  END IF;
  IF to_regclass('public.audit_log') IS NOT NULL AND to_regclass('platform.audit_log') IS NULL THEN
    ALTER TABLE public.audit_log DROP CONSTRAINT IF EXISTS audit_log_tenant_id_tenants_id_fk;
    ALTER TABLE public.audit_log SET SCHEMA platform;
  END IF;
END $$;
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "platform"."installation" (
	"singleton" boolean PRIMARY KEY DEFAULT true NOT NULL,
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	CONSTRAINT "installation_one_row" CHECK ("installation"."singleton")
);
--> statement-breakpoint
-- Written once, here: every service reads the same identity from the database it shares.
INSERT INTO "platform"."installation" DEFAULT VALUES ON CONFLICT DO NOTHING;
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "platform"."audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"tenant_id" uuid,
	"actor_user_id" text,
	"action" text NOT NULL,
	"target" text,
	"request_id" text,
	"details" jsonb
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "audit_log_tenant_at" ON "platform"."audit_log" USING btree ("tenant_id","at");
