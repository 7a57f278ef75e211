import { Authorized, Query, Resolver } from "type-graphql";
import { Role, type InstanceDirectory } from "@kombify/service-core";
import { StackInstance } from "./stack-instance.type.js";

@Resolver(() => StackInstance)
export class StackInstanceResolver {
  constructor(private readonly directory: InstanceDirectory) {}

  @Authorized(Role.PLATFORM_ADMIN)
  @Query(() => [StackInstance], { description: "Platform admins only." })
  instances(): Promise<StackInstance[]> {
    return this.directory.list();
  }
}
