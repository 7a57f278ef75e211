CREATE TABLE "job_queue" (
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
ALTER TABLE "job_queue" ADD CONSTRAINT "job_queue_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "job_queue_one_per_stack" ON "job_queue" USING btree ("tenant_id","stack_id");--> statement-breakpoint
CREATE INDEX "job_queue_unclaimed" ON "job_queue" USING btree ("enqueued_at");