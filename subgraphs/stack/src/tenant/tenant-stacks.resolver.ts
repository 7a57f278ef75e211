import { Ctx, Directive, Field, FieldResolver, ID, ObjectType, Resolver, Root } from "type-graphql";
import type { RequestContext } from "@kombify/service-core/auth";
import type { HomelabStores } from "../stack/homelab-stores.js";
import { Stack } from "../stack/stack.type.js";

/** The tenant entity, owned by the tenant subgraph; the stack subgraph adds its stacks. */
@Directive('@key(fields: "id")')
@ObjectType("Tenant")
export class Tenant {
  @Field(() => ID)
  id!: string;
}

@Resolver(() => Tenant)
export class TenantStacksResolver {
  constructor(private readonly stores: HomelabStores) {}

  /** Stacks live in the caller's namespace, so only the caller's own tenant has any here. */
  @FieldResolver(() => [Stack])
  async stacks(@Root() tenant: Tenant, @Ctx() context: RequestContext): Promise<Stack[]> {
    if (context.caller.kind !== "user" || context.caller.tenant?.id !== tenant.id) return [];
    return (await this.stores.batchedFor(context)).stacksOfTenant();
  }
}
