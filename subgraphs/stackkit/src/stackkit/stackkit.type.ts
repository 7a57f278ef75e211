import { Directive, Field, ID, ObjectType } from "type-graphql";
import { PlanTierEnum } from "@kombify/plan-catalog/graphql";
import type { PlanTier } from "@kombify/service-core/auth";

@Directive('@key(fields: "id")')
@ObjectType("StackKit", { description: "A versioned bundle of self-hosted services that KombiStack deploys." })
export class StackKit {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String)
  version!: string;

  @Field(() => String)
  description!: string;

  @Field(() => PlanTierEnum, { description: "The lowest plan that may download and deploy it." })
  tier!: PlanTier;

  @Field(() => [String])
  services!: string[];

  @Field(() => Boolean, { description: "Whether the caller's plan allows it (false for anonymous callers)." })
  entitled!: boolean;
}

@ObjectType("StackKitDownload")
export class StackKitDownload {
  @Field(() => String)
  url!: string;

  @Field(() => Date)
  expiresAt!: Date;

  @Field(() => String)
  sha256!: string;
}
