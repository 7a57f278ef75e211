import { resolve } from "node:path";
import { pocketBaseBinary } from "@kombify/pocketbase-process";
import { connectDockerEngine } from "@kombify/simulation-containers";
import type { SubgraphRuntime } from "@kombify/service-core/server/subgraph-runtime";
import type { InstanceDirectory } from "../directory/instance-directory.js";
import type { TenantDirectory } from "../directory/tenant-directory.js";
import { TenantCreation } from "../tenant/tenant-creation.js";
import { TenantCreationLimits } from "../tenant/tenant-creation-limits.js";
import { DockerProvisioner } from "./docker-provisioner.js";
import { InstanceGrowth } from "./instance-growth.js";
import type { InstanceProvisioner } from "./instance-provisioner.js";
import { InstanceProvisioning } from "./instance-provisioning.js";
import { ProcessProvisioner } from "./process-provisioner.js";
import { sharedMaxTenants, type ProvisioningSettings } from "./provisioning-settings.js";

type Settings = ProvisioningSettings & {
  STACK_INSTANCE_REGION: string;
  STACK_INSTANCE_MODE: string;
  STACK_INSTANCE_MAX_TENANTS?: number | undefined;
  INSTANCE_HEALTH_INTERVAL_MS: number;
  POCKETBASE_SUPERUSER_EMAIL: string;
  POCKETBASE_SUPERUSER_PASSWORD: string;
};

/** How old an unregistered instance must be before it counts as left behind by a crash, not as being provisioned. */
const ORPHAN_AGE_MS = 15 * 60_000;

/** The provisioner INSTANCE_PROVISIONER names, or null for `none`. */
export function instanceProvisionerFor(runtime: SubgraphRuntime, settings: Settings): InstanceProvisioner | null {
  const superuser = { email: settings.POCKETBASE_SUPERUSER_EMAIL, password: settings.POCKETBASE_SUPERUSER_PASSWORD };
  // Made only for a provisioner: composing the schema builds this subgraph with inert dependencies.
  const log = () => runtime.log.child({ provisioner: settings.INSTANCE_PROVISIONER });
  switch (settings.INSTANCE_PROVISIONER) {
    case "none":
      return null;
    case "process":
      return new ProcessProvisioner({
        binary: pocketBaseBinary(settings.POCKETBASE_BINARY),
        dataDir: resolve(settings.INSTANCE_PROCESS_DATA_DIR),
        ports: settings.INSTANCE_PROCESS_PORTS,
        superuser,
        log: log(),
      });
    case "docker":
      return new DockerProvisioner({
        engine: connectDockerEngine(settings.DOCKER_HOST),
        image: settings.INSTANCE_DOCKER_IMAGE,
        binary: pocketBaseBinary(settings.POCKETBASE_BINARY),
        network: settings.INSTANCE_DOCKER_NETWORK,
        reachBy: settings.INSTANCE_DOCKER_REACH,
        publishHost: settings.INSTANCE_DOCKER_PUBLISH_HOST,
        superuser,
        labels: { "io.kombify.installation": runtime.installationId },
        log: log(),
      });
  }
}

/**
 * The tenant subgraph's provisioning: the provisioner, the provisioning service (`provisionInstance`,
 * `retireInstance`), automatic growth, and tenant creation with its rate limits. `start` brings back earlier
 * provisioned instances and starts growth; `stop` stops growth and what the provisioner supervises.
 */
export function provisioningServices(runtime: SubgraphRuntime, settings: Settings, instances: InstanceDirectory, tenants: TenantDirectory) {
  const provisioner = instanceProvisionerFor(runtime, settings);
  const maxTenants = sharedMaxTenants(settings);
  const provisioning = new InstanceProvisioning(runtime.db, instances, provisioner, { sharedMaxTenants: maxTenants }, runtime.log);
  const growth = new InstanceGrowth(
    runtime.database.sql,
    instances,
    provisioning,
    {
      provisionAt: settings.INSTANCE_PROVISION_AT,
      sharedMaxTenants: maxTenants,
      region: settings.INSTANCE_PROVISION_REGION ?? settings.STACK_INSTANCE_REGION,
      checkIntervalMs: settings.INSTANCE_GROWTH_INTERVAL_MS,
      retryAfterFailureMs: Math.max(settings.INSTANCE_HEALTH_INTERVAL_MS, 5000),
    },
    runtime.log,
  );
  const limits = new TenantCreationLimits(runtime.db, {
    perAddress: settings.TENANT_CREATION_PER_ADDRESS,
    overall: settings.TENANT_CREATION_OVERALL,
    windowSeconds: settings.TENANT_CREATION_WINDOW_SECONDS,
  });
  const creation = new TenantCreation(tenants, instances, growth, limits, { waitForRoomMs: settings.INSTANCE_PROVISION_WAIT_MS, provisioning: provisioning.enabled });
  return {
    provisioning,
    growth,
    creation,
    async start(): Promise<void> {
      await provisioning.resumeProvisioned();
      // A replica that died mid-provisioning left a PocketBase no instance names; provisioning takes well under this.
      await provisioning.removeOrphans(ORPHAN_AGE_MS).catch((error) => runtime.log.warn({ err: error }, "could not look for unregistered instances"));
      growth.start();
    },
    async stop(): Promise<void> {
      await growth.stop();
      await provisioning.close();
    },
  };
}
