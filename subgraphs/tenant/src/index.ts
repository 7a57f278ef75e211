export { createTenantSubgraph } from "./tenant-subgraph.js";
export { TenantDirectory } from "./tenant/tenant-directory.js";
export { InstanceDirectory } from "./instance/instance-directory.js";
