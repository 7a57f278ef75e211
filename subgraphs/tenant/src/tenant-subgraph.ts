import { z } from "zod";
import { buildFederatedSubgraph, resolverContainer } from "@kombify/service-core/federation/subgraph-schema";
import { NamespaceResolver } from "@kombify/homelab-store";
import { assertHomelabStoreSecrets, connectHomelabStore, homelabStoreSettingsShape } from "@kombify/homelab-store";
import { Entitlements, PlanCatalog, planCatalogSettingsShape } from "@kombify/plan-catalog";
import { defineSubgraph } from "@kombify/service-core/server/subgraph-runtime";
import { tenantMigrations } from "./db/schema.js";
import { InstanceDirectory } from "./directory/instance-directory.js";
import { InstanceHealth } from "./instance/instance-health.js";
import { hasLegacyCollections, migrateLegacyCollections } from "./directory/legacy-namespace-migration.js";
import { TenantDirectory } from "./directory/tenant-directory.js";
import { directoryAnswers, instanceLookup, PLAN_CHANGED_CHANNEL, TENANT_CHANGED_CHANNEL } from "./published/tenant-directory.js";
import { parsePlanPlacementRegions, registeredInstancesOnly } from "./relocation/tenant-placement.js";
import { tenantRelocationService } from "./relocation/tenant-relocation-service.js";
import { TenantRelocationResolver } from "./relocation/tenant-relocation.resolver.js";
import { AuditLogResolver } from "./audit/audit-log.resolver.js";
import { FeatureFlags } from "./feature-flag/feature-flags.js";
import { StackInstanceResolver } from "./instance/stack-instance.resolver.js";
import { InstanceProvisioningResolver } from "./instance/instance-provisioning.resolver.js";
import { provisioningServices } from "./provisioning/provisioning-services.js";
import { assertProvisioningSettings, provisioningSettingsShape } from "./provisioning/provisioning-settings.js";
import { TenantResolver } from "./tenant/tenant.resolver.js";

const instanceSettings = {
  STACK_INSTANCE_NAME: z.string().regex(/^[a-z0-9-]{2,63}$/).default("local-01").describe("lower-case letters, digits and '-'"),
  STACK_INSTANCE_REGION: z.string().min(1).default("local").describe("a region name"),
  STACK_INSTANCE_MODE: z.enum(["SHARED", "DEDICATED"]).default("SHARED").describe("SHARED or DEDICATED"),
  STACK_INSTANCE_MAX_TENANTS: z.coerce.number().int().positive().optional().describe("a positive integer"),
  LEGACY_DEFAULT_TENANT_ORG_ID: z.string().min(1).optional().describe("the Zitadel organisation id that owns pre-multi-tenant data"),
  INSTANCE_HEALTH_INTERVAL_MS: z.coerce.number().int().min(100).max(600_000).default(10_000).describe("milliseconds between health checks of the instances, 100 to 600000"),
  PLAN_PLACEMENT_REGIONS: z
    .string()
    .regex(/^(\*|none|[a-z0-9-]+(,[a-z0-9-]+)*)$/)
    .default("*")
    .describe("the regions whose tenants move when their plan changes (ENTERPRISE to a DEDICATED instance and back): *, none, or a comma-separated list"),
  RELOCATION_SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(15_000).describe("milliseconds between sweeps that resume tenant moves and follow plan changes, 100 to 3600000"),
  INSTANCE_HEALTH_FAILURES: z.coerce.number().int().min(1).max(100).default(3).describe("failed health checks in a row that make an instance unhealthy, 1 to 100"),
};

/** Tenants, the KombiStack instances they live on, feature flags and the audit log (PostgreSQL). */
export const tenantSubgraph = defineSubgraph({
  name: "tenant",
  settings: { ...instanceSettings, ...homelabStoreSettingsShape, ...planCatalogSettingsShape, ...provisioningSettingsShape },
  check(settings) {
    assertHomelabStoreSecrets(settings);
    assertProvisioningSettings(settings);
  },
  async create(runtime, settings) {
    const homelab = connectHomelabStore(settings);
    const entitlements = new Entitlements(PlanCatalog.load(settings.PLANS_FILE));
    await runtime.migrate(tenantMigrations);
    const namespaces = new NamespaceResolver(instanceLookup(runtime.db), homelab.connections);
    const instances = new InstanceDirectory(runtime.db);
    const health = new InstanceHealth(instances, { intervalMs: settings.INSTANCE_HEALTH_INTERVAL_MS, failuresToUnhealthy: settings.INSTANCE_HEALTH_FAILURES }, runtime.log);
    const tenants = new TenantDirectory(runtime.db, namespaces);
    const flags = new FeatureFlags(runtime.db, entitlements, namespaces);
    // Instances made on demand (INSTANCE_PROVISIONER), automatic growth, and tenant creation within its rate limits.
    const provisioning = provisioningServices(runtime, settings, instances, tenants);
    // Moves go to an instance in service with room first; a new one comes from the provisioning service when a
    // provisioner is configured, and otherwise there is none to move to.
    const supply = provisioning.provisioning.enabled ? provisioning.provisioning : registeredInstancesOnly(runtime.db, instances, runtime.log);
    const relocation = tenantRelocationService({
      runtime,
      instances,
      tenants,
      namespaces,
      connections: homelab.connections,
      flags,
      supply,
      sweepIntervalMs: settings.RELOCATION_SWEEP_INTERVAL_MS,
      planRegions: parsePlanPlacementRegions(settings.PLAN_PLACEMENT_REGIONS),
    });
    const subgraph = await buildFederatedSubgraph({
      resolvers: [TenantResolver, StackInstanceResolver, InstanceProvisioningResolver, AuditLogResolver, TenantRelocationResolver],
      container: resolverContainer([
        new TenantResolver(runtime.db, tenants, instances, flags, provisioning.creation),
        new StackInstanceResolver(instances),
        new InstanceProvisioningResolver(runtime.db, provisioning.provisioning),
        new AuditLogResolver(runtime.db),
        relocation.resolver,
      ]),
      referenceResolvers: {
        Tenant: TenantResolver.reference(runtime.db, tenants),
        StackInstance: StackInstanceResolver.reference(instances),
      },
    });
    /** Pre-multi-tenant data becomes the `default` tenant's, once an owner organisation is configured. */
    async function migrateLegacyNamespace(instanceId: string, pocketbaseUrl: string): Promise<void> {
      const pb = await homelab.connections.forInstance(pocketbaseUrl);
      if (settings.LEGACY_DEFAULT_TENANT_ORG_ID) {
        await migrateLegacyCollections({ pb, instanceUrl: pocketbaseUrl, instanceId, orgId: settings.LEGACY_DEFAULT_TENANT_ORG_ID, tenants, log: runtime.log });
      } else if (await hasLegacyCollections(pb, pocketbaseUrl)) {
        runtime.log.warn("PocketBase holds un-namespaced stacks/nodes/jobs: set LEGACY_DEFAULT_TENANT_ORG_ID to migrate them into the default tenant");
      }
    }

    return {
      subgraph,
      // Ready while a new tenant could be placed (some healthy instance has room), not while one PocketBase answers.
      readiness: { database: runtime.checks.database, instances: () => instances.canTakeTenants().catch(() => false), directory: () => directoryAnswers(runtime.db) },
      stop: async () => {
        await provisioning.stop();
        await relocation.stop();
        await health.stop();
      },
      async start() {
        const pocketbaseUrl = homelab.url;
        const instance = await instances.register({
          name: settings.STACK_INSTANCE_NAME,
          region: settings.STACK_INSTANCE_REGION,
          deploymentMode: settings.STACK_INSTANCE_MODE,
          maxTenants: settings.STACK_INSTANCE_MAX_TENANTS ?? (settings.STACK_INSTANCE_MODE === "SHARED" ? 50 : 1),
          pocketbaseUrl,
        });
        await migrateLegacyNamespace(instance.id, pocketbaseUrl).catch((error) =>
          runtime.log.error({ err: error }, "could not migrate the un-namespaced PocketBase collections"),
        );
        health.start();
        await provisioning.start();
        await runtime.database.sql.listen(TENANT_CHANGED_CHANNEL, (tenantId) => namespaces.forget(tenantId));
        relocation.start();
        // Billing announces plan changes; the flags a plan gives live in the tenant's namespace too, so they follow.
        await runtime.database.sql.listen(PLAN_CHANGED_CHANNEL, (tenantId) => {
          tenants
            .byId(tenantId)
            .then((tenant) => tenant && flags.syncToNamespace(tenant))
            .catch((error) => runtime.log.warn({ err: error, tenantId }, "could not re-sync feature flags after a plan change"));
          // ENTERPRISE lives on a DEDICATED instance of its own, every other plan on a SHARED one.
          relocation.placement
            .followPlan(tenantId)
            .catch((error) => runtime.log.warn({ err: error, tenantId }, "could not move a tenant to the instance its new plan calls for"));
        });
      },
    };
  },
});
