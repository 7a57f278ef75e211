// Helpers for a subgraph's type-graphql schema (PlanTierEnum registers with type-graphql): subgraphs only.
export { PlanTierEnum } from "./plan-tier-enum.js";
export { batchLoader, PerRequest, type BatchLoader } from "./request-batches.js";
export { SchemaBoundSources } from "./schema-bound-sources.js";
