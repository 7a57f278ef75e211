export { identitySubgraph } from "./identity-subgraph.js";
export { identityMigrations, users } from "./db/schema.js";
