export { stackSubgraph } from "./stack-subgraph.js";
export { stackMigrations } from "./db/schema.js";
export { jobQueue, stackSimulations } from "./db/schema.js";
