export { startEmbeddedPostgres, type RunningPostgres } from "./postgres/embedded-postgres.js";
export { databaseAndDescendants, dropDatabaseAndDescendants, ensureDatabaseExists } from "./postgres/postgres-database.js";
export { pocketBaseBinary, startPocketBase, type RunningPocketBase } from "./pocketbase/pocketbase-process.js";
export { assertPortFree, freePort, waitForOk } from "./services/ports.js";
export { type ServiceProcess } from "./services/service-process.js";
export { startSupergraphProcesses } from "./services/supergraph-processes.js";
export { DEMO_USER } from "./seed/demo-seed.js";
export { prepareSimulationEngine, DEFAULT_SIM_NODE_IMAGE, type EngineStatus } from "./docker/sim-node-image.js";
