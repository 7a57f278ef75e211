import { Directive, Field, ID, ObjectType } from "type-graphql";

@Directive('@key(fields: "id")')
@ObjectType("Node", { description: "A machine of the tenant's homelab that stacks deploy onto." })
export class Node {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  hostname!: string;

  @Field(() => String)
  address!: string;

  @Field(() => String)
  role!: string;

  @Field(() => String)
  status!: string;
}
