-- The stack subgraph's tables move from public (where every subgraph's tables lived before each had its own
-- schema) into stack, keeping every row; on a new installation they are created here. Keys into tenants and
-- simulations are dropped: their owners publish what the stack needs, and the ids are kept by value.
CREATE SCHEMA IF NOT EXISTS "stack";
--> statement-breakpoint
DO $$
BEGIN
  IF to_regclass('public.job_queue') IS NOT NULL AND to_regclass('stack.job_queue') IS NULL THEN
    ALTER TABLE public.job_queue DROP CONSTRAINT IF EXISTS job_queue_tenant_id_tenants_id_fk;
    ALTER TABLE public.job_queue SET SCHEMA stack;
  END IF;
  IF to_regclass('public.stack_simulations') IS NOT NULL AND to_regclass('stack.stack_simulations') IS NULL THEN
    ALTER TABLE public.stack_simulations DROP CONSTRAINT IF EXISTS stack_simulations_tenant_id_tenants_id_fk;
    ALTER TABLE public.stack_simulations DROP CONSTRAINT IF EXISTS stack_simulations_simulation_id_simulations_id_fk;
    ALTER TABLE public.stack_simulations SET SCHEMA stack;
  END IF;
END $$;
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "stack"."job_queue" (
	"job_id" text PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"stack_id" text NOT NULL,
	"kind" text NOT NULL,
	"stack_status_before" text NOT NULL,
	"enqueued_at" timestamp with time zone DEFAULT now() NOT NULL,
	"claimed_by" text,
	"claimed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE UNIQUE INDEX IF NOT EXISTS "job_queue_one_per_stack" ON "stack"."job_queue" USING btree ("tenant_id","stack_id");
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "job_queue_unclaimed" ON "stack"."job_queue" USING btree ("enqueued_at");
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "stack"."stack_simulations" (
	"tenant_id" uuid NOT NULL,
	"stack_id" text NOT NULL,
	"simulation_id" uuid,
	CONSTRAINT "stack_simulations_tenant_id_stack_id_pk" PRIMARY KEY("tenant_id","stack_id")
);
