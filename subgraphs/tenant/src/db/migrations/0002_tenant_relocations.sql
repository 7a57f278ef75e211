-- Moving a tenant's namespace between KombiStack instances (issue 15): each move is a row whose phase is kept as
-- it advances, so a mover that dies mid-copy is resumed (or rolled back) by the next one; at most one unfinished
-- move per tenant. An instance being drained takes no new tenants.
CREATE TABLE IF NOT EXISTS "tenant"."tenant_relocations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL REFERENCES "tenant"."tenants"("id") ON DELETE cascade,
	"from_instance_id" uuid NOT NULL REFERENCES "tenant"."stack_instances"("id"),
	"to_instance_id" uuid NOT NULL REFERENCES "tenant"."stack_instances"("id"),
	"reason" text NOT NULL,
	"phase" text DEFAULT 'fencing' NOT NULL,
	"copied_records" integer DEFAULT 0 NOT NULL,
	"checksum" text,
	"error" text,
	"requested_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "tenant_relocations_phase_check" CHECK ("phase" IN ('fencing', 'copying', 'switching', 'cleaning', 'rolling_back', 'done', 'rolled_back')),
	CONSTRAINT "tenant_relocations_distinct_instances" CHECK ("from_instance_id" <> "to_instance_id")
);
--> statement-breakpoint
CREATE UNIQUE INDEX IF NOT EXISTS "tenant_relocations_one_unfinished_per_tenant" ON "tenant"."tenant_relocations" ("tenant_id") WHERE "phase" NOT IN ('done', 'rolled_back');
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "tenant_relocations_unfinished" ON "tenant"."tenant_relocations" ("created_at") WHERE "phase" NOT IN ('done', 'rolled_back');
--> statement-breakpoint
ALTER TABLE "tenant"."stack_instances" ADD COLUMN IF NOT EXISTS "draining_since" timestamp with time zone;
--> statement-breakpoint
-- The directory says when a tenant's namespace is in motion (fenced on its old instance, not yet switched): its
-- homelab operations answer UNAVAILABLE with a retry hint meanwhile. Appended, so readers of the older shape still work.
CREATE OR REPLACE VIEW "tenant"."tenant_directory" AS
  SELECT t.id AS tenant_id, t.slug, t.name, t.zitadel_org_id, t.created_at,
         i.id AS instance_id, i.name AS instance_name, i.region AS instance_region,
         i.deployment_mode::text AS deployment_mode, i.pocketbase_url, i.healthy AS instance_healthy,
         tenant.plan_of(t.id) AS plan,
         EXISTS (SELECT 1 FROM tenant.tenant_relocations r
                 WHERE r.tenant_id = t.id AND r.phase IN ('fencing', 'copying', 'switching', 'rolling_back')) AS moving
  FROM tenant.tenants t JOIN tenant.stack_instances i ON i.id = t.instance_id;
--> statement-breakpoint
-- A move's phase changes what the directory says of its tenant: readers that cache entries drop them at once.
CREATE OR REPLACE FUNCTION tenant.notify_relocation_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('kombify_tenant_changed', NEW.tenant_id::text);
  RETURN NULL;
END;
$$;
--> statement-breakpoint
DROP TRIGGER IF EXISTS tenant_relocations_changed ON tenant.tenant_relocations;
--> statement-breakpoint
CREATE TRIGGER tenant_relocations_changed AFTER INSERT OR UPDATE OF phase ON tenant.tenant_relocations
  FOR EACH ROW EXECUTE FUNCTION tenant.notify_relocation_changed();
