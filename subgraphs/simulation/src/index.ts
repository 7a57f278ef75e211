export { createSimulationSubgraph } from "./simulation-subgraph.js";
