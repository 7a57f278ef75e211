import { Directive, Field, ID, Int, ObjectType, registerEnumType } from "type-graphql";

export enum DeploymentMode {
  SHARED = "SHARED",
  DEDICATED = "DEDICATED",
}
registerEnumType(DeploymentMode, { name: "DeploymentMode" });

@Directive('@key(fields: "id")')
@ObjectType("StackInstance", {
  description: "A KombiStack instance: one PocketBase holding up to maxTenants tenant namespaces (SHARED: 50, DEDICATED: 1).",
})
export class StackInstance {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String)
  region!: string;

  @Field(() => DeploymentMode)
  deploymentMode!: `${DeploymentMode}`;

  @Field(() => Int)
  maxTenants!: number;

  /** Resolved by StackInstanceResolver.tenantCount: null for anyone but platform admins. */
  @Field(() => Int, {
    nullable: true,
    description: "For platform admins: how many tenants live on this instance. Null for everyone else, since it counts other tenants.",
  })
  tenantCount!: number | null;

  @Field(() => Boolean)
  healthy!: boolean;

  /** Resolved by InstanceProvisioningResolver.provisioner: null for anyone but platform admins. */
  @Field(() => String, {
    nullable: true,
    description: "For platform admins: what made this instance (`configured`: this deployment's configuration; `process`, `docker`: a provisioner). Null for everyone else.",
  })
  provisioner!: string | null;

  /** Resolved by InstanceProvisioningResolver.pocketbaseUrl: null for anyone but platform admins. */
  @Field(() => String, { nullable: true, description: "For platform admins: where the instance's PocketBase answers. Null for everyone else." })
  pocketbaseUrl!: string | null;
}
