import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";
import { recordAudit } from "@kombify/service-core/audit";
import { Role, type RequestContext } from "@kombify/service-core/auth";
import type { Db } from "@kombify/service-core/database";
import { errorMessage } from "@kombify/service-core/errors";
import { isUuid } from "@kombify/service-core/identifiers";
import { TenantRelocation } from "./tenant-relocation.type.js";
import type { TenantPlacement } from "./tenant-placement.js";
import type { TenantRelocations } from "./tenant-relocations.js";

const actor = (context: RequestContext) => (context.caller.kind === "user" ? context.caller.userId : null);

/** Moving tenants between instances and draining instances: platform admins only, every call audited, refused ones too. */
@Resolver(() => TenantRelocation)
export class TenantRelocationResolver {
  constructor(
    private readonly db: Db,
    private readonly placement: TenantPlacement,
    private readonly relocations: TenantRelocations,
  ) {}

  @Authorized(Role.PLATFORM_ADMIN)
  @Mutation(() => TenantRelocation, {
    description:
      "Platform admins only. Moves the tenant's homelab to the instance: its writes answer UNAVAILABLE (with retryAfter) " +
      "until the copy is verified and the tenant switched. Runs in the background: follow it with tenantRelocation(id).",
  })
  async moveTenant(
    @Ctx() context: RequestContext,
    @Arg("tenantId", () => ID) tenantId: string,
    @Arg("instanceId", () => ID) instanceId: string,
  ): Promise<TenantRelocation> {
    const tenant = isUuid(tenantId) ? tenantId : null;
    try {
      const row = await this.placement.move(tenantId, instanceId, "admin", actor(context));
      await recordAudit(this.db, context, {
        action: "tenant.move",
        target: `tenant:${tenantId}`,
        tenantId,
        details: { relocationId: row.id, fromInstanceId: row.fromInstanceId, toInstanceId: row.toInstanceId },
      });
      return row;
    } catch (error) {
      await recordAudit(this.db, context, {
        action: "tenant.move.failed",
        target: `tenant:${tenantId.slice(0, 64)}`,
        tenantId: tenant,
        details: { instanceId: instanceId.slice(0, 64), reason: errorMessage(error).slice(0, 500) },
      });
      throw error;
    }
  }

  @Authorized(Role.PLATFORM_ADMIN)
  @Mutation(() => [TenantRelocation], {
    description:
      "Platform admins only. Places no more tenants on the instance, moves each of its tenants to another instance of " +
      "the kind its plan calls for, and retires the instance once it is empty. The moves started.",
  })
  async drainInstance(@Ctx() context: RequestContext, @Arg("id", () => ID) id: string): Promise<TenantRelocation[]> {
    try {
      const moves = await this.placement.drain(id, actor(context));
      await recordAudit(this.db, context, {
        action: "instance.drain",
        target: `instance:${id}`,
        tenantId: null,
        details: { relocationIds: moves.map((move) => move.id) },
      });
      return moves;
    } catch (error) {
      await recordAudit(this.db, context, { action: "instance.drain.failed", target: `instance:${id.slice(0, 64)}`, tenantId: null, details: { reason: errorMessage(error).slice(0, 500) } });
      throw error;
    }
  }

  @Authorized(Role.PLATFORM_ADMIN)
  @Query(() => TenantRelocation, { nullable: true, description: "Platform admins only: a tenant move and how far it got." })
  tenantRelocation(@Arg("id", () => ID) id: string): Promise<TenantRelocation | null> {
    return this.relocations.get(id);
  }
}
