export { simulationSubgraph } from "./simulation-subgraph.js";
export { simulationMigrations } from "./db/schema.js";
export { simulationNodes, simulations } from "./db/schema.js";
