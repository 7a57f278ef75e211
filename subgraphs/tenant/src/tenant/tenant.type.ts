import { Directive, Field, ID, ObjectType } from "type-graphql";

@Directive('@key(fields: "id")')
@ObjectType("Tenant")
export class Tenant {
  @Field(() => ID)
  id!: string;

  @Field(() => String, {
    description: "Namespace suffix: the tenant's PocketBase collections are users_<slug>, stacks_<slug>, nodes_<slug>, jobs_<slug>.",
  })
  slug!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String)
  zitadelOrgId!: string;

  @Field(() => Date)
  createdAt!: Date;

  instanceId!: string;
}
