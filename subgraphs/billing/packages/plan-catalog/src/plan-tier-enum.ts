import { registerEnumType } from "type-graphql";
import { PLAN_TIERS, type PlanTier } from "@kombify/service-core/auth";

/** PlanTier as a GraphQL enum, registered once for every subgraph that exposes it. */
export const PlanTierEnum = Object.fromEntries(PLAN_TIERS.map((tier) => [tier, tier])) as { [T in PlanTier]: T };
registerEnumType(PlanTierEnum, { name: "PlanTier" });
