import { configOrExit, loadDotEnv } from "@kombify/service-core/config";
import { parseSubgraphSettings, runSubgraph } from "@kombify/service-core/server/subgraph-runtime";
import { billingSubgraph } from "./billing-subgraph.js";

// The process's edge: its settings are read here, once, and handed down typed.
loadDotEnv();
const settings = configOrExit(() => parseSubgraphSettings(billingSubgraph, process.env));
await runSubgraph(billingSubgraph, settings);
