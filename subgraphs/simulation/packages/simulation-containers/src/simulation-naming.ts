import { assertValidSlug } from "@kombify/service-core/identifiers";
import { isUuid } from "@kombify/service-core/identifiers";

/** Labels on every container and network KombiSim creates; Docker filters and reconciliation go by them. */
export const SIMULATION_LABELS = {
  managedBy: "io.kombify.managed-by",
  installation: "io.kombify.installation",
  tenant: "io.kombify.tenant",
  simulation: "io.kombify.simulation",
  node: "io.kombify.node",
} as const;

export const MANAGED_BY_KOMBISIM = "kombisim";

/** Simulation and node names: lower-case letters, digits and '-', as Docker names and DNS labels allow. */
export const SIMULATION_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

export interface SimulationNodeIdentity {
  installation: string;
  tenantId: string;
  tenantSlug: string;
  simulationId: string;
  simulationName: string;
  nodeName: string;
}

function assertSimulationName(value: string, what: string): string {
  if (!SIMULATION_NAME_PATTERN.test(value)) throw new Error(`refusing to build a Docker name from an invalid ${what}: ${JSON.stringify(value)}`);
  return value;
}

function assertId(value: string, what: string): string {
  if (!isUuid(value)) throw new Error(`refusing to label a container with an invalid ${what}: ${JSON.stringify(value)}`);
  return value;
}

/** `<tenant>_<simulation>_<node>`: built only from a validated slug and validated names. */
export function simulationContainerName(node: Pick<SimulationNodeIdentity, "tenantSlug" | "simulationName" | "nodeName">): string {
  return `${assertValidSlug(node.tenantSlug)}_${assertSimulationName(node.simulationName, "simulation name")}_${assertSimulationName(node.nodeName, "node name")}`;
}

/** The tenant's own Docker network. */
export function tenantNetworkName(tenantSlug: string): string {
  return `kombify_${assertValidSlug(tenantSlug)}`;
}

/** The labels every container and network of one installation carries, and is found by. */
export function installationLabels(installation: string): Record<string, string> {
  return { [SIMULATION_LABELS.managedBy]: MANAGED_BY_KOMBISIM, [SIMULATION_LABELS.installation]: installation };
}

/** A node container's labels: its installation's, then whose node it is. */
export function simulationContainerLabels(node: SimulationNodeIdentity): Record<string, string> {
  return {
    ...installationLabels(node.installation),
    [SIMULATION_LABELS.tenant]: assertId(node.tenantId, "tenant id"),
    [SIMULATION_LABELS.simulation]: assertId(node.simulationId, "simulation id"),
    [SIMULATION_LABELS.node]: assertSimulationName(node.nodeName, "node name"),
  };
}

/** Docker's label filter syntax (`key=value`) for the given labels. */
export function labelFilters(labels: Record<string, string>): string[] {
  return Object.entries(labels).map(([key, value]) => `${key}=${value}`);
}
