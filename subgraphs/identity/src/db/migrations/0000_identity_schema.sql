-- Identity's user cache moves from public (where every subgraph's tables lived before each had its own schema)
-- into identity, keeping every row; on a new installation it is created here. Its key into tenants is dropped:
-- tenants belong to the tenant subgraph, and identity keeps the id by value.
CREATE SCHEMA IF NOT EXISTS "identity";
--> statement-breakpoint
SELECT platform.adopt_shared_table('users', 'identity', ARRAY['users_tenant_id_tenants_id_fk']);
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
