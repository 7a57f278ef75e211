import { Directive, Query, Resolver } from "type-graphql";
import type { PlanCatalog } from "@kombify/plan-catalog";
import { toPlan } from "./plan.mapper.js";
import { Plan } from "./plan.type.js";

@Resolver(() => Plan)
export class PlanResolver {
  constructor(private readonly catalog: PlanCatalog) {}

  @Directive("@listSize(assumedSize: 3)")
  @Query(() => [Plan], { description: "Public: the plans on offer, cheapest first." })
  plans(): Plan[] {
    return this.catalog.all().map(toPlan);
  }
}
