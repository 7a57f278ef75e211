/** An operation document with the types of its variables and result, so `client.request` is typed end to end. */
export interface Operation<TData, TVariables extends Record<string, unknown> = Record<string, never>> {
  document: string;
  /** Phantom fields: carry the types only. */
  readonly __data?: TData;
  readonly __variables?: TVariables;
}

const operation = <TData, TVariables extends Record<string, unknown> = Record<string, never>>(document: string): Operation<TData, TVariables> => ({
  document,
});

export type PlanTier = "FREE" | "PRO" | "ENTERPRISE";
export type StackStatus = "DRAFT" | "DEPLOYING" | "RUNNING" | "FAILED" | "DESTROYED";

export interface StackSummary {
  id: string;
  name: string;
  status: StackStatus;
  stackKit: { id: string; name: string; tier: PlanTier };
  nodes: { id: string; hostname: string; address: string; role: string; status: string }[];
}

const STACK_FIELDS = "id name status stackKit { id name tier } nodes { id hostname address role status }";

export const MyHomelab = operation<{
  myTenant: null | {
    id: string;
    name: string;
    slug: string;
    plan: { tier: PlanTier; name: string; limits: { maxStacks: number; maxSimulations: number; maxNodesPerSimulation: number } };
    stacks: StackSummary[];
  };
}>(`query MyHomelab {
  myTenant { id name slug plan { tier name limits { maxStacks maxSimulations maxNodesPerSimulation } } stacks { ${STACK_FIELDS} } }
}`);

export const Catalog = operation<{
  stackKits: { id: string; name: string; version: string; description: string; tier: PlanTier; services: string[]; entitled: boolean }[];
  plans: { tier: PlanTier; name: string; priceMonthlyCents: number }[];
}>(`query Catalog {
  stackKits { id name version description tier services entitled }
  plans { tier name priceMonthlyCents }
}`);

export const CreateTenant = operation<{ createTenant: { id: string; slug: string; name: string } }, { name: string; slug?: string }>(
  `mutation CreateTenant($name: String!, $slug: String) { createTenant(name: $name, slug: $slug) { id slug name } }`,
);

export interface NodeInput {
  hostname: string;
  address: string;
  role?: string;
}

export const CreateStack = operation<{ createStack: StackSummary }, { name: string; stackKitId: string; nodes: NodeInput[] }>(
  `mutation CreateStack($name: String!, $stackKitId: ID!, $nodes: [NodeInput!]!) {
  createStack(name: $name, stackKitId: $stackKitId, nodes: $nodes) { ${STACK_FIELDS} }
}`,
);

export const DeleteStack = operation<{ deleteStack: boolean }, { id: string }>(`mutation DeleteStack($id: ID!) { deleteStack(id: $id) }`);

export type SimulationStatus = "PENDING" | "PROVISIONING" | "RUNNING" | "STOPPING" | "STOPPED" | "FAILED";

export interface SimulationSummary {
  id: string;
  name: string;
  status: SimulationStatus;
  statusMessage: string | null;
  stackKit: { id: string; name: string } | null;
  nodes: { name: string; containerId: string | null; image: string; sshHost: string; sshPort: number | null; status: SimulationStatus; statusMessage: string | null }[];
}

const SIMULATION_FIELDS = "id name status statusMessage stackKit { id name } nodes { name containerId image sshHost sshPort status statusMessage }";

export const Simulations = operation<{ simulations: SimulationSummary[] }>(`query Simulations { simulations { ${SIMULATION_FIELDS} } }`);

export const CreateSimulation = operation<
  { createSimulation: SimulationSummary },
  { name: string; nodeCount: number; image?: string; stackKitId?: string }
>(`mutation CreateSimulation($name: String!, $nodeCount: Int!, $image: String, $stackKitId: ID) {
  createSimulation(name: $name, nodeCount: $nodeCount, image: $image, stackKitId: $stackKitId) { ${SIMULATION_FIELDS} }
}`);

export const StartSimulation = operation<{ startSimulation: SimulationSummary }, { id: string }>(
  `mutation StartSimulation($id: ID!) { startSimulation(id: $id) { ${SIMULATION_FIELDS} } }`,
);

export const StopSimulation = operation<{ stopSimulation: SimulationSummary }, { id: string }>(
  `mutation StopSimulation($id: ID!) { stopSimulation(id: $id) { ${SIMULATION_FIELDS} } }`,
);

export const DeleteSimulation = operation<{ deleteSimulation: boolean }, { id: string }>(`mutation DeleteSimulation($id: ID!) { deleteSimulation(id: $id) }`);

/** A stack on a simulation's nodes: its deploys run the kit's steps inside the simulation's containers. */
export const CreateStackOnSimulation = operation<{ createStack: StackSummary }, { name: string; stackKitId: string; simulationId: string }>(
  `mutation CreateStackOnSimulation($name: String!, $stackKitId: ID!, $simulationId: ID!) {
  createStack(name: $name, stackKitId: $stackKitId, nodes: [], simulationId: $simulationId) { ${STACK_FIELDS} }
}`,
);
