-- Tell listeners (the gateway's org -> tenant cache) which organisation's tenant changed: the tenant row
-- itself (created, renamed, deleted) or its billing mirror (plan changes).
CREATE OR REPLACE FUNCTION kombify_notify_tenant_changed() RETURNS trigger AS $$
DECLARE
  org text;
BEGIN
  IF TG_TABLE_NAME = 'tenants' THEN
    org := COALESCE(NEW.zitadel_org_id, OLD.zitadel_org_id);
  ELSE
    SELECT zitadel_org_id INTO org FROM tenants WHERE id = COALESCE(NEW.tenant_id, OLD.tenant_id);
  END IF;
  IF org IS NOT NULL THEN
    PERFORM pg_notify('kombify_tenant_changed', org);
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER tenants_changed AFTER INSERT OR UPDATE OR DELETE ON tenants
  FOR EACH ROW EXECUTE FUNCTION kombify_notify_tenant_changed();
--> statement-breakpoint
CREATE TRIGGER billing_subscriptions_changed AFTER INSERT OR UPDATE OR DELETE ON billing_subscriptions
  FOR EACH ROW EXECUTE FUNCTION kombify_notify_tenant_changed();
