import { Directive, Authorized, Ctx, FieldResolver, Int, Query, Resolver, Root } from "type-graphql";
import { effectiveRoles, Role, type RequestContext } from "@kombify/service-core/auth";
import type { InstanceDirectory } from "../directory/instance-directory.js";
import { StackInstance } from "./stack-instance.type.js";

function isPlatformAdmin(context: RequestContext): boolean {
  return context.caller.kind === "user" && effectiveRoles(context.caller).has(Role.PLATFORM_ADMIN);
}

@Resolver(() => StackInstance)
export class StackInstanceResolver {
  constructor(private readonly directory: InstanceDirectory) {}

  @Authorized(Role.PLATFORM_ADMIN)
  @Directive("@listSize(assumedSize: 20)")
  @Query(() => [StackInstance], { description: "Platform admins only." })
  instances(): Promise<StackInstance[]> {
    return this.directory.list();
  }

  /** A tenant may see where it lives (Tenant.instance), but not how many others live there too. */
  @FieldResolver(() => Int, { nullable: true })
  tenantCount(@Root() instance: StackInstance, @Ctx() context: RequestContext): number | null {
    return isPlatformAdmin(context) ? instance.tenantCount : null;
  }

  /**
   * Another subgraph's (or a caller's `_entities`) `StackInstance { id }`: platform admins only. A tenant reaches
   * its own instance through Tenant.instance, and a Tenant resolves only for its own members (or platform admins).
   */
  static reference(directory: InstanceDirectory) {
    return {
      async __resolveReference(reference: Pick<StackInstance, "id">, context: RequestContext): Promise<StackInstance | null> {
        return isPlatformAdmin(context) ? directory.get(reference.id) : null;
      },
    };
  }
}
