-- The tenant subgraph's tables move from public (where every subgraph's tables lived before each had its own
-- schema) into tenant, keeping every row, index and constraint; on a new installation they are created here.
CREATE SCHEMA IF NOT EXISTS "tenant";
--> statement-breakpoint
SELECT platform.adopt_shared_type('deployment_mode', 'tenant');
--> statement-breakpoint
SELECT platform.adopt_shared_table('stack_instances', 'tenant');
--> statement-breakpoint
SELECT platform.adopt_shared_table('tenants', 'tenant');
--> statement-breakpoint
SELECT platform.adopt_shared_table('feature_flag_overrides', 'tenant');
--> statement-breakpoint
DO $$ BEGIN
  CREATE TYPE "tenant"."deployment_mode" AS ENUM('SHARED', 'DEDICATED');
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "tenant"."stack_instances" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"region" text NOT NULL,
	"deployment_mode" "tenant"."deployment_mode" DEFAULT 'SHARED' NOT NULL,
	"max_tenants" integer NOT NULL,
	"pocketbase_url" text NOT NULL,
	"healthy" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "stack_instances_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "tenant"."tenants" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"slug" text NOT NULL,
	"name" text NOT NULL,
	"zitadel_org_id" text NOT NULL,
	"instance_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tenants_slug_unique" UNIQUE("slug"),
	CONSTRAINT "tenants_zitadel_org_id_unique" UNIQUE("zitadel_org_id"),
	CONSTRAINT "tenants_instance_id_stack_instances_id_fk" FOREIGN KEY ("instance_id") REFERENCES "tenant"."stack_instances"("id") ON DELETE no action ON UPDATE no action
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "tenant"."feature_flag_overrides" (
	"tenant_id" uuid NOT NULL,
	"key" text NOT NULL,
	"enabled" boolean NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "feature_flag_overrides_tenant_id_key_pk" PRIMARY KEY("tenant_id","key"),
	CONSTRAINT "feature_flag_overrides_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "tenant"."tenants"("id") ON DELETE cascade ON UPDATE no action
);
--> statement-breakpoint
-- The published read model: who a tenant is, on which instance, on which plan. The plan is billing's decision,
-- asked of billing's published function when a row is read (plpgsql binds the name then, so neither service's
-- migrations wait for the other's).
CREATE OR REPLACE FUNCTION tenant.plan_of(tenant_id uuid) RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN billing.effective_plan(tenant_id);
END;
$$;
--> statement-breakpoint
CREATE OR REPLACE VIEW "tenant"."tenant_directory" AS
  SELECT t.id AS tenant_id, t.slug, t.name, t.zitadel_org_id, t.created_at,
         i.id AS instance_id, i.name AS instance_name, i.region AS instance_region,
         i.deployment_mode::text AS deployment_mode, i.pocketbase_url, i.healthy AS instance_healthy,
         tenant.plan_of(t.id) AS plan
  FROM tenant.tenants t JOIN tenant.stack_instances i ON i.id = t.instance_id;
--> statement-breakpoint
-- The directory's change events (payload: the tenant id), so readers drop a cached entry at once: a tenant
-- created, renamed or moved, or its instance's address or health changed. Plan changes come from billing on
-- its own channel.
CREATE OR REPLACE FUNCTION tenant.notify_tenant_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'tenants' THEN
    PERFORM pg_notify('kombify_tenant_changed', COALESCE(NEW.id, OLD.id)::text);
  ELSE
    PERFORM pg_notify('kombify_tenant_changed', t.id::text) FROM tenant.tenants t WHERE t.instance_id = COALESCE(NEW.id, OLD.id);
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER tenants_changed AFTER INSERT OR UPDATE OR DELETE ON tenant.tenants
  FOR EACH ROW EXECUTE FUNCTION tenant.notify_tenant_changed();
--> statement-breakpoint
CREATE TRIGGER stack_instances_changed AFTER UPDATE ON tenant.stack_instances
  FOR EACH ROW WHEN (OLD.pocketbase_url IS DISTINCT FROM NEW.pocketbase_url OR OLD.healthy IS DISTINCT FROM NEW.healthy
                     OR OLD.deployment_mode IS DISTINCT FROM NEW.deployment_mode OR OLD.name IS DISTINCT FROM NEW.name)
  EXECUTE FUNCTION tenant.notify_tenant_changed();
