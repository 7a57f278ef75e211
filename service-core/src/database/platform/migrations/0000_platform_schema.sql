-- The kernel's tables move from public (where every table lived before each subgraph had its own schema) into
-- platform, keeping every row; on a new installation they are created here. Constraints that pointed into
-- another owner's tables are dropped: tenant ids are kept by value.
CREATE SCHEMA IF NOT EXISTS "platform";
--> statement-breakpoint
-- Used by every owner's first migration to adopt its tables (and enum types) from public, where the releases with
-- shared tables kept them all: moved, not copied (rows, sequences, indexes and constraints go with them), once, and
-- only when the owner has none yet. Constraints naming another owner's tables are dropped first: ids are kept by value.
CREATE OR REPLACE FUNCTION platform.adopt_shared_table(legacy_table text, owner_schema text, crossing_constraints text[] DEFAULT '{}')
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  crossing text;
BEGIN
  IF to_regclass(format('public.%I', legacy_table)) IS NULL OR to_regclass(format('%I.%I', owner_schema, legacy_table)) IS NOT NULL THEN
    RETURN false;
  END IF;
  FOREACH crossing IN ARRAY crossing_constraints LOOP
    EXECUTE format('ALTER TABLE public.%I DROP CONSTRAINT IF EXISTS %I', legacy_table, crossing);
  END LOOP;
  EXECUTE format('ALTER TABLE public.%I SET SCHEMA %I', legacy_table, owner_schema);
  RETURN true;
END;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION platform.adopt_shared_type(legacy_type text, owner_schema text)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF to_regtype(format('public.%I', legacy_type)) IS NULL OR to_regtype(format('%I.%I', owner_schema, legacy_type)) IS NOT NULL THEN
    RETURN false;
  END IF;
  EXECUTE format('ALTER TYPE public.%I SET SCHEMA %I', legacy_type, owner_schema);
  RETURN true;
END;
$$;
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
END $$;
--> statement-breakpoint
SELECT platform.adopt_shared_table('installation', 'platform');
--> statement-breakpoint
SELECT platform.adopt_shared_table('audit_log', 'platform', ARRAY['audit_log_tenant_id_tenants_id_fk']);
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
