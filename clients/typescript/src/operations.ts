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
