import { runSubgraphMain } from "@kombify/service-core";
import { createSimulationSubgraph } from "./simulation-subgraph.js";

await runSubgraphMain("simulation", createSimulationSubgraph);
