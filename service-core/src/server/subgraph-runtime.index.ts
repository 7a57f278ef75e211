// `@kombify/service-core/server/subgraph-runtime`: what a subgraph process starts with (settings, PostgreSQL,
// PocketBase, catalogs, tracing, its server) and its `main`. Subgraphs only: it loads the PocketBase SDK and
// type-graphql.
export {
  assertProductionSecrets,
  DEV_POCKETBASE_PASSWORD,
  launchSubgraph,
  parseSubgraphSettings,
  schemaOnlyRuntime,
  subgraphSettingsShape,
  type LaunchedSubgraph,
  type SubgraphFactory,
  type SubgraphRuntime,
  type SubgraphService,
  type SubgraphSettings,
} from "./subgraph-runtime.js";
export { runSubgraphMain } from "./run-subgraph-main.js";
