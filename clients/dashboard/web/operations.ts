/**
 * The dashboard's operations, kept in one place so a test can validate them against schema/supergraph.graphql.
 * Each root field that the API declares non-null has an operation of its own: one failing subgraph then empties
 * only its own panel.
 */

export const TENANT_QUERY = /* GraphQL */ `
  query DashboardTenant {
    myTenant {
      id
      name
      slug
      plan { tier name limits { requestsPerMinute maxStacks maxSimulations maxNodesPerSimulation } }
    }
  }
`;

const JOB_FIELDS = /* GraphQL */ `
  fragment DashboardJob on Job {
    id
    kind
    status
    progress
    message
    createdAt
    startedAt
    finishedAt
    logs(tail: 30)
    stack { id }
  }
`;

export const STACKS_QUERY = /* GraphQL */ `
  query DashboardStacks {
    stacks {
      id
      name
      status
      createdAt
      stackKit { id name version }
      simulation { id name }
      nodes { id hostname address role status }
      jobs(last: 5) { ...DashboardJob }
    }
  }
  ${JOB_FIELDS}
`;

const SIMULATION_FIELDS = /* GraphQL */ `
  fragment DashboardSimulation on Simulation {
    id
    name
    status
    statusMessage
    createdAt
    stackKit { id name }
    nodes { name status statusMessage sshHost sshPort }
  }
`;

export const SIMULATIONS_QUERY = /* GraphQL */ `
  query DashboardSimulations {
    simulations { ...DashboardSimulation }
  }
  ${SIMULATION_FIELDS}
`;

export const DEPLOY_STACK = /* GraphQL */ `
  mutation DashboardDeployStack($id: ID!) {
    deployStack(id: $id) { ...DashboardJob }
  }
  ${JOB_FIELDS}
`;

export const JOB_UPDATED = /* GraphQL */ `
  subscription DashboardJobUpdated {
    jobUpdated { ...DashboardJob }
  }
  ${JOB_FIELDS}
`;

export const SIMULATION_UPDATED = /* GraphQL */ `
  subscription DashboardSimulationUpdated {
    simulationUpdated { ...DashboardSimulation }
  }
  ${SIMULATION_FIELDS}
`;

export const DASHBOARD_OPERATIONS = { TENANT_QUERY, STACKS_QUERY, SIMULATIONS_QUERY, DEPLOY_STACK, JOB_UPDATED, SIMULATION_UPDATED };

export type JobStatus = "QUEUED" | "RUNNING" | "SUCCEEDED" | "FAILED" | "CANCELLED";
export type SimulationStatus = "PENDING" | "PROVISIONING" | "RUNNING" | "STOPPING" | "STOPPED" | "FAILED" | "DELETED";

export interface PlanLimits {
  requestsPerMinute: number;
  maxStacks: number;
  maxSimulations: number;
  maxNodesPerSimulation: number;
}

export interface TenantData {
  myTenant: { id: string; name: string; slug: string; plan: { tier: string; name: string; limits: PlanLimits } } | null;
}

export interface Job {
  id: string;
  kind: string;
  status: JobStatus;
  progress: number;
  message: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  logs: string[];
  stack: { id: string };
}

export interface StackNode {
  id: string;
  hostname: string;
  address: string;
  role: string;
  status: string;
}

export interface Stack {
  id: string;
  name: string;
  status: string;
  createdAt: string;
  stackKit: { id: string; name: string; version: string };
  simulation: { id: string; name: string } | null;
  nodes: StackNode[];
  jobs: Job[];
}

export interface StacksData {
  stacks: Stack[];
}

export interface SimulatedNode {
  name: string;
  status: string;
  statusMessage: string | null;
  sshHost: string;
  sshPort: number | null;
}

export interface Simulation {
  id: string;
  name: string;
  status: SimulationStatus;
  statusMessage: string | null;
  createdAt: string;
  stackKit: { id: string; name: string } | null;
  nodes: SimulatedNode[];
}

export interface SimulationsData {
  simulations: Simulation[];
}

export interface DeployStackData {
  deployStack: Job;
}

export interface JobUpdatedData {
  jobUpdated: Job;
}

export interface SimulationUpdatedData {
  simulationUpdated: Simulation;
}

export const ACTIVE_JOB_STATUSES: readonly JobStatus[] = ["QUEUED", "RUNNING"];
