import { runSubgraphMain } from "@kombify/service-core";
import { createStackKitSubgraph } from "./stackkit-subgraph.js";

await runSubgraphMain("stackkit", createStackKitSubgraph);
