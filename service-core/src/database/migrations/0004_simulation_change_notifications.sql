-- Tell the simulation subgraph's subscribers what changed. A simulation row carries its new state in the payload
-- (so a quick PROVISIONING -> RUNNING arrives as two events, not one re-read), and a deleted one its last row
-- with status DELETED; a node change names its simulation, which listeners then read.
CREATE OR REPLACE FUNCTION kombify_notify_simulation_changed() RETURNS trigger AS $$
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
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER simulations_changed AFTER INSERT OR UPDATE OR DELETE ON simulations
  FOR EACH ROW EXECUTE FUNCTION kombify_notify_simulation_changed();
--> statement-breakpoint
CREATE TRIGGER simulation_nodes_changed AFTER UPDATE ON simulation_nodes
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.container_id IS DISTINCT FROM NEW.container_id)
  EXECUTE FUNCTION kombify_notify_simulation_changed();
