import { runSubgraphMain } from "@kombify/service-core";
import { createStackSubgraph } from "./stack-subgraph.js";

await runSubgraphMain("stack", createStackSubgraph);
