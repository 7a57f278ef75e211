export { createTenantSubgraph } from "./tenant-subgraph.js";
