export { execInContainer } from "./container-exec.js";
export { assertEngineReachable, callEngine, connectDockerEngine, dockerStatus, imageExists, type DockerEngine } from "./docker-engine.js";
export {
  installationLabels,
  labelFilters,
  MANAGED_BY_KOMBISIM,
  SIMULATION_LABELS,
  SIMULATION_NAME_PATTERN,
  simulationContainerLabels,
  simulationContainerName,
  tenantNetworkName,
  type SimulationNodeIdentity,
} from "./simulation-naming.js";
