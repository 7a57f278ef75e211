CREATE TABLE "stack_simulations" (
	"tenant_id" uuid NOT NULL,
	"stack_id" text NOT NULL,
	"simulation_id" uuid,
	CONSTRAINT "stack_simulations_tenant_id_stack_id_pk" PRIMARY KEY("tenant_id","stack_id")
);
--> statement-breakpoint
ALTER TABLE "simulation_nodes" ADD COLUMN "status_message" text;--> statement-breakpoint
ALTER TABLE "stack_simulations" ADD CONSTRAINT "stack_simulations_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stack_simulations" ADD CONSTRAINT "stack_simulations_simulation_id_simulations_id_fk" FOREIGN KEY ("simulation_id") REFERENCES "public"."simulations"("id") ON DELETE set null ON UPDATE no action;