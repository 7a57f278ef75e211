import { configOrExit, loadDotEnv } from "@kombify/service-core/config";
import { parseSubgraphSettings, runSubgraph } from "@kombify/service-core/server/subgraph-runtime";
import { identitySubgraph } from "./identity-subgraph.js";

// The process's edge: its settings are read here, once, and handed down typed.
loadDotEnv();
const settings = configOrExit(() => parseSubgraphSettings(identitySubgraph, process.env));
await runSubgraph(identitySubgraph, settings);
