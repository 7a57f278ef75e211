import { Arg, Authorized, Ctx, FieldResolver, Mutation, Resolver, Root } from "type-graphql";
import { recordAudit } from "@kombify/service-core/audit";
import { effectiveRoles, Role, type RequestContext } from "@kombify/service-core/auth";
import type { Db } from "@kombify/service-core/database";
import { errorMessage } from "@kombify/service-core/errors";
import type { InstanceProvisioning } from "../provisioning/instance-provisioning.js";
import { DeploymentMode, StackInstance } from "./stack-instance.type.js";

function isPlatformAdmin(context: RequestContext): boolean {
  return context.caller.kind === "user" && effectiveRoles(context.caller).has(Role.PLATFORM_ADMIN);
}

/** What platform admins may do with and see of instances' provisioning. Every provisioning is audited, failed ones too. */
@Resolver(() => StackInstance)
export class InstanceProvisioningResolver {
  constructor(
    private readonly db: Db,
    private readonly provisioning: InstanceProvisioning,
  ) {}

  @Authorized(Role.PLATFORM_ADMIN)
  @Mutation(() => StackInstance, {
    description:
      "Platform admins only: provisions a new instance with the configured provisioner, waits until its PocketBase answers, and puts it in service. UNAVAILABLE without a provisioner or when provisioning fails.",
  })
  async provisionInstance(
    @Ctx() context: RequestContext,
    @Arg("region", () => String) region: string,
    @Arg("mode", () => DeploymentMode, { defaultValue: DeploymentMode.SHARED }) mode: DeploymentMode,
  ): Promise<StackInstance> {
    try {
      const instance = await this.provisioning.provisionInstance({ region, mode });
      await recordAudit(this.db, context, { action: "instance.provision", target: `instance:${instance.id}`, tenantId: null, details: { name: instance.name, region, mode, provisioner: instance.provisioner } });
      return instance;
    } catch (error) {
      await recordAudit(this.db, context, { action: "instance.provision.failed", tenantId: null, details: { region: region.slice(0, 64), mode, reason: errorMessage(error).slice(0, 500) } });
      throw error;
    }
  }

  @FieldResolver(() => String, { nullable: true })
  provisioner(@Root() instance: StackInstance, @Ctx() context: RequestContext): string | null {
    return isPlatformAdmin(context) ? instance.provisioner : null;
  }

  @FieldResolver(() => String, { nullable: true })
  pocketbaseUrl(@Root() instance: StackInstance, @Ctx() context: RequestContext): string | null {
    return isPlatformAdmin(context) ? instance.pocketbaseUrl : null;
  }
}
