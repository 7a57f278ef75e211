export { createBillingSubgraph } from "./billing-subgraph.js";
