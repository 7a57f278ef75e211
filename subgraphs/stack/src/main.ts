import { configOrExit, loadDotEnv } from "@kombify/service-core/config";
import { parseSubgraphSettings, runSubgraph } from "@kombify/service-core/server/subgraph-runtime";
import { stackSubgraph } from "./stack-subgraph.js";

// The process's edge: its settings are read here, once, and handed down typed.
loadDotEnv();
const settings = configOrExit(() => parseSubgraphSettings(stackSubgraph, process.env));
await runSubgraph(stackSubgraph, settings);
