import { Field, ObjectType } from "type-graphql";

@ObjectType("FeatureFlag")
export class FeatureFlag {
  @Field(() => String)
  key!: string;

  @Field(() => Boolean)
  enabled!: boolean;

  @Field(() => String, { description: "PLAN when it comes from the tenant's plan, OVERRIDE when an admin set it for this tenant." })
  source!: "PLAN" | "OVERRIDE";
}
