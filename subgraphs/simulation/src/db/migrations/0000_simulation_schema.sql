-- The simulation subgraph's tables move from public (where every subgraph's tables lived before each had its own
-- schema) into simulation, keeping every row and SSH port reservation; on a new installation they are created
-- here. Keys into tenants are dropped: tenants belong to the tenant subgraph, and their ids are kept by value.
CREATE SCHEMA IF NOT EXISTS "simulation";
--> statement-breakpoint
SELECT platform.adopt_shared_type('simulation_status', 'simulation');
--> statement-breakpoint
SELECT platform.adopt_shared_table('simulations', 'simulation', ARRAY['simulations_tenant_id_tenants_id_fk']);
--> statement-breakpoint
SELECT platform.adopt_shared_table('simulation_nodes', 'simulation', ARRAY['simulation_nodes_tenant_id_tenants_id_fk']);
--> statement-breakpoint
DO $$ BEGIN
  CREATE TYPE "simulation"."simulation_status" AS ENUM('PENDING', 'PROVISIONING', 'RUNNING', 'STOPPING', 'STOPPED', 'FAILED');
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "simulation"."simulations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"name" text NOT NULL,
	"status" "simulation"."simulation_status" DEFAULT 'PENDING' NOT NULL,
	"status_message" text,
	"image" text NOT NULL,
	"stack_kit_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX IF NOT EXISTS "simulations_tenant_name" ON "simulation"."simulations" USING btree ("tenant_id","name");
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "simulation"."simulation_nodes" (
	"simulation_id" uuid NOT NULL,
	"tenant_id" uuid NOT NULL,
	"name" text NOT NULL,
	"container_id" text,
	"image" text NOT NULL,
	"ssh_port" integer,
	"status" text DEFAULT 'PENDING' NOT NULL,
	"status_message" text,
	CONSTRAINT "simulation_nodes_simulation_id_name_pk" PRIMARY KEY("simulation_id","name"),
	CONSTRAINT "simulation_nodes_ssh_port_unique" UNIQUE("ssh_port"),
	CONSTRAINT "simulation_nodes_simulation_id_simulations_id_fk" FOREIGN KEY ("simulation_id") REFERENCES "simulation"."simulations"("id") ON DELETE cascade ON UPDATE no action
);
--> statement-breakpoint
-- Tell the simulation subgraph's subscribers what changed. A simulation row carries its new state in the payload
-- (so a quick PROVISIONING -> RUNNING arrives as two events, not one re-read), and a deleted one its last row
-- with status DELETED; a node change names its simulation, which listeners then read.
CREATE OR REPLACE FUNCTION simulation.notify_simulation_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  payload jsonb;
  source record;
BEGIN
  IF TG_TABLE_NAME = 'simulations' THEN
    IF TG_OP = 'DELETE' THEN source := OLD; ELSE source := NEW; END IF;
    payload := jsonb_build_object('tenantId', source.tenant_id, 'simulationId', source.id, 'deleted', TG_OP = 'DELETE', 'row', jsonb_build_object(
      'id', source.id, 'name', source.name,
      'status', CASE WHEN TG_OP = 'DELETE' THEN 'DELETED' ELSE source.status::text END,
      'statusMessage', source.status_message, 'stackKitId', source.stack_kit_id, 'createdAt', source.created_at));
  ELSE
    payload := jsonb_build_object('tenantId', COALESCE(NEW.tenant_id, OLD.tenant_id), 'simulationId', COALESCE(NEW.simulation_id, OLD.simulation_id));
  END IF;
  PERFORM pg_notify('kombify_simulation_changed', payload::text);
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER simulations_changed AFTER INSERT OR UPDATE OR DELETE ON simulation.simulations
  FOR EACH ROW EXECUTE FUNCTION simulation.notify_simulation_changed();
--> statement-breakpoint
CREATE TRIGGER simulation_nodes_changed AFTER UPDATE ON simulation.simulation_nodes
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.container_id IS DISTINCT FROM NEW.container_id)
  EXECUTE FUNCTION simulation.notify_simulation_changed();
--> statement-breakpoint
-- Published for the stack subgraph, whose stacks deploy onto a simulation's nodes: which nodes a tenant's
-- simulation has (a simulation missing here has been deleted). The stack reads only this view.
CREATE OR REPLACE VIEW "simulation"."node_directory" AS
  SELECT n.tenant_id, n.simulation_id, s.name AS simulation_name, n.name AS node_name
  FROM simulation.simulation_nodes n JOIN simulation.simulations s ON s.id = n.simulation_id AND s.tenant_id = n.tenant_id;
--> statement-breakpoint
CREATE OR REPLACE VIEW "simulation"."simulation_directory" AS
  SELECT tenant_id, id AS simulation_id, name FROM simulation.simulations;
