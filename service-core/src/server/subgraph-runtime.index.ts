// `@kombify/service-core/server/subgraph-runtime`: what a subgraph process starts with (settings, its database,
// tracing, its server) and its `main`. Subgraphs only: it loads type-graphql.
export {
  buildSchemaOnly,
  defineSubgraph,
  kernelSettingsShape,
  launchSubgraph,
  parseSubgraphSettings,
  type KernelSettings,
  type LaunchedSubgraph,
  type SubgraphDefinition,
  type SubgraphRuntime,
  type SubgraphService,
  type SubgraphSettingsOf,
} from "./subgraph-runtime.js";
export { runSubgraph } from "./run-subgraph-main.js";
