ALTER TABLE "stack_simulations" DROP CONSTRAINT "stack_simulations_simulation_id_simulations_id_fk";
--> statement-breakpoint
ALTER TABLE "stack_simulations" ALTER COLUMN "simulation_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "stack_simulations" ADD CONSTRAINT "stack_simulations_simulation_id_simulations_id_fk" FOREIGN KEY ("simulation_id") REFERENCES "public"."simulations"("id") ON DELETE set null ON UPDATE no action;