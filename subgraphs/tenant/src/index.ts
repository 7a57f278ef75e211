export { tenantSubgraph } from "./tenant-subgraph.js";
export { tenantMigrations } from "./db/schema.js";
export { TenantDirectory } from "./directory/tenant-directory.js";
export { InstanceDirectory } from "./directory/instance-directory.js";
export { featureFlagOverrides, stackInstances, tenants } from "./db/schema.js";
