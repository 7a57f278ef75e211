-- The stack subgraph's tables move from public (where every subgraph's tables lived before each had its own
-- schema) into stack, keeping every row; on a new installation they are created here. Keys into tenants and
-- simulations are dropped: their owners publish what the stack needs, and the ids are kept by value.
CREATE SCHEMA IF NOT EXISTS "stack";
--> statement-breakpoint
SELECT platform.adopt_shared_table('job_queue', 'stack', ARRAY['job_queue_tenant_id_tenants_id_fk']);
--> statement-breakpoint
SELECT platform.adopt_shared_table('stack_simulations', 'stack', ARRAY['stack_simulations_tenant_id_tenants_id_fk', 'stack_simulations_simulation_id_simulations_id_fk']);
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
