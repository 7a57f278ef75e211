export * from "./test-subgraph.js";
export * from "./test-database.js";
export * from "./test-tenants.js";
export * from "./test-supergraph.js";
export { freePort } from "@kombify/launcher";
export { TEST_SUPERUSER } from "./global-setup.js";
export * from "./test-subscriptions.js";
export { SUBGRAPH_FACTORIES } from "@kombify/schema";
export * from "./test-docker.js";
