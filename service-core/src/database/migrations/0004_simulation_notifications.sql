-- Tell the simulation subgraph's subscribers what changed: a simulation row carries its new state in the
-- payload (so a quick PROVISIONING -> RUNNING is seen as two events, not one re-read); a node change names
-- its simulation, which listeners then read.
CREATE OR REPLACE FUNCTION kombify_notify_simulation_changed() RETURNS trigger AS $$
DECLARE
  payload jsonb;
BEGIN
  IF TG_TABLE_NAME = 'simulations' THEN
    IF TG_OP = 'DELETE' THEN
      payload := jsonb_build_object('tenantId', OLD.tenant_id, 'simulationId', OLD.id, 'deleted', true);
    ELSE
      payload := jsonb_build_object('tenantId', NEW.tenant_id, 'simulationId', NEW.id, 'row', jsonb_build_object(
        'id', NEW.id, 'name', NEW.name, 'status', NEW.status, 'statusMessage', NEW.status_message,
        'stackKitId', NEW.stack_kit_id, 'createdAt', NEW.created_at));
    END IF;
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
