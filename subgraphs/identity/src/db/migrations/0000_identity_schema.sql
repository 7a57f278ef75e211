-- Identity's user cache moves from public (where every subgraph's tables lived before each had its own schema)
-- into identity, keeping every row; on a new installation it is created here. Its key into tenants is dropped:
-- tenants belong to the tenant subgraph, and identity keeps the id by value.
CREATE SCHEMA IF NOT EXISTS "identity";
--> statement-breakpoint
DO $$
BEGIN
  IF to_regclass('public.users') IS NOT NULL AND to_regclass('identity.users') IS NULL THEN
    ALTER TABLE public.users DROP CONSTRAINT IF EXISTS users_tenant_id_tenants_id_fk;
    ALTER TABLE public.users SET SCHEMA identity;
  END IF;
END $$;
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "identity"."users" (
	"id" text PRIMARY KEY NOT NULL,
	"email" text NOT NULL,
	"display_name" text,
	"roles" text[] DEFAULT '{}'::text[] NOT NULL,
	"tenant_id" uuid,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
