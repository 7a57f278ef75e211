-- Instances this deployment provisions itself (issue 15): which provisioner made each (`configured` for the ones
-- registered from configuration, as every existing row was) and its opaque handle, so the same provisioner can
-- remove it; and when it was retired (no tenants, no health checks, its PocketBase removed).
ALTER TABLE "tenant"."stack_instances" ADD COLUMN IF NOT EXISTS "provisioner" text DEFAULT 'configured' NOT NULL;
--> statement-breakpoint
ALTER TABLE "tenant"."stack_instances" ADD COLUMN IF NOT EXISTS "provisioner_handle" text;
--> statement-breakpoint
ALTER TABLE "tenant"."stack_instances" ADD COLUMN IF NOT EXISTS "retired_at" timestamp with time zone;
--> statement-breakpoint
-- Tenant creations admitted recently, by the client address the gateway signed: the per-address and overall rate
-- limits count these in PostgreSQL, so every replica counts the same ones. Rows older than the window are pruned.
CREATE TABLE IF NOT EXISTS "tenant"."tenant_creation_admissions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"client_address" text,
	"admitted_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "tenant_creation_admissions_admitted_at_idx" ON "tenant"."tenant_creation_admissions" USING btree ("admitted_at");
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "tenant_creation_admissions_address_idx" ON "tenant"."tenant_creation_admissions" USING btree ("client_address","admitted_at");
