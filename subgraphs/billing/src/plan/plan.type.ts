import { Field, Int, ObjectType } from "type-graphql";
import { PlanTierEnum } from "@kombify/plan-catalog/graphql";
import type { PlanTier } from "@kombify/service-core/auth";

@ObjectType("PlanLimits")
export class PlanLimits {
  @Field(() => Int)
  requestsPerMinute!: number;

  @Field(() => Int)
  maxStacks!: number;

  @Field(() => Int)
  maxSimulations!: number;

  @Field(() => Int)
  maxNodesPerSimulation!: number;
}

@ObjectType("PlanFeature", { description: "A feature the plan turns on or off." })
export class PlanFeature {
  @Field(() => String)
  key!: string;

  @Field(() => Boolean)
  enabled!: boolean;
}

@ObjectType("Plan")
export class Plan {
  @Field(() => PlanTierEnum)
  tier!: PlanTier;

  @Field(() => String)
  name!: string;

  @Field(() => Int)
  priceMonthlyCents!: number;

  @Field(() => PlanLimits)
  limits!: PlanLimits;

  @Field(() => [PlanFeature])
  features!: PlanFeature[];
}
