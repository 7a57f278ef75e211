-- A deleted simulation is announced with its last row and status DELETED, so subscribers see it go.
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
