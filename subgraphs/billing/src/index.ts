export { billingSubgraph } from "./billing-subgraph.js";
export { billingMigrations, billingSubscriptions } from "./db/schema.js";
