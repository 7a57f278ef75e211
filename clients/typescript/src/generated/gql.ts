/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "query Catalog {\n  stackKits {\n    id\n    name\n    version\n    description\n    tier\n    services\n    entitled\n  }\n  plans {\n    tier\n    name\n    priceMonthlyCents\n  }\n}": typeof types.CatalogDocument,
    "subscription JobUpdated($jobId: ID, $stackId: ID) {\n  jobUpdated(jobId: $jobId, stackId: $stackId) {\n    id\n    status\n    progress\n    message\n    stack {\n      name\n      stackKit {\n        name\n        tier\n      }\n    }\n  }\n}": typeof types.JobUpdatedDocument,
    "fragment SimulationSummary on Simulation {\n  id\n  name\n  status\n  statusMessage\n  stackKit {\n    id\n    name\n  }\n  nodes {\n    name\n    containerId\n    image\n    sshHost\n    sshPort\n    status\n    statusMessage\n  }\n}\n\nquery Simulations {\n  simulations {\n    ...SimulationSummary\n  }\n}\n\nmutation CreateSimulation($name: String!, $nodeCount: Int!, $image: String, $stackKitId: ID) {\n  createSimulation(\n    name: $name\n    nodeCount: $nodeCount\n    image: $image\n    stackKitId: $stackKitId\n  ) {\n    ...SimulationSummary\n  }\n}\n\nmutation StartSimulation($id: ID!) {\n  startSimulation(id: $id) {\n    ...SimulationSummary\n  }\n}\n\nmutation StopSimulation($id: ID!) {\n  stopSimulation(id: $id) {\n    ...SimulationSummary\n  }\n}\n\nmutation DeleteSimulation($id: ID!) {\n  deleteSimulation(id: $id)\n}\n\nsubscription SimulationUpdated($id: ID) {\n  simulationUpdated(id: $id) {\n    ...SimulationSummary\n  }\n}": typeof types.SimulationSummaryFragmentDoc,
    "fragment StackSummary on Stack {\n  id\n  name\n  status\n  stackKit {\n    id\n    name\n    tier\n  }\n  nodes {\n    id\n    hostname\n    address\n    role\n    status\n  }\n}\n\nmutation CreateStack($name: String!, $stackKitId: ID!, $nodes: [NodeInput!]!) {\n  createStack(name: $name, stackKitId: $stackKitId, nodes: $nodes) {\n    ...StackSummary\n  }\n}\n\nmutation CreateStackOnSimulation($name: String!, $stackKitId: ID!, $simulationId: ID!) {\n  createStack(\n    name: $name\n    stackKitId: $stackKitId\n    nodes: []\n    simulationId: $simulationId\n  ) {\n    ...StackSummary\n  }\n}\n\nmutation DeleteStack($id: ID!) {\n  deleteStack(id: $id)\n}\n\nmutation DeployStack($id: ID!) {\n  deployStack(id: $id) {\n    id\n    kind\n    status\n    progress\n  }\n}": typeof types.StackSummaryFragmentDoc,
    "query MyHomelab {\n  myTenant {\n    id\n    name\n    slug\n    plan {\n      tier\n      name\n      limits {\n        maxStacks\n        maxSimulations\n        maxNodesPerSimulation\n      }\n    }\n    stacks {\n      ...StackSummary\n    }\n  }\n}\n\nmutation CreateTenant($name: String!, $slug: String) {\n  createTenant(name: $name, slug: $slug) {\n    id\n    slug\n    name\n  }\n}": typeof types.MyHomelabDocument,
};
const documents: Documents = {
    "query Catalog {\n  stackKits {\n    id\n    name\n    version\n    description\n    tier\n    services\n    entitled\n  }\n  plans {\n    tier\n    name\n    priceMonthlyCents\n  }\n}": types.CatalogDocument,
    "subscription JobUpdated($jobId: ID, $stackId: ID) {\n  jobUpdated(jobId: $jobId, stackId: $stackId) {\n    id\n    status\n    progress\n    message\n    stack {\n      name\n      stackKit {\n        name\n        tier\n      }\n    }\n  }\n}": types.JobUpdatedDocument,
    "fragment SimulationSummary on Simulation {\n  id\n  name\n  status\n  statusMessage\n  stackKit {\n    id\n    name\n  }\n  nodes {\n    name\n    containerId\n    image\n    sshHost\n    sshPort\n    status\n    statusMessage\n  }\n}\n\nquery Simulations {\n  simulations {\n    ...SimulationSummary\n  }\n}\n\nmutation CreateSimulation($name: String!, $nodeCount: Int!, $image: String, $stackKitId: ID) {\n  createSimulation(\n    name: $name\n    nodeCount: $nodeCount\n    image: $image\n    stackKitId: $stackKitId\n  ) {\n    ...SimulationSummary\n  }\n}\n\nmutation StartSimulation($id: ID!) {\n  startSimulation(id: $id) {\n    ...SimulationSummary\n  }\n}\n\nmutation StopSimulation($id: ID!) {\n  stopSimulation(id: $id) {\n    ...SimulationSummary\n  }\n}\n\nmutation DeleteSimulation($id: ID!) {\n  deleteSimulation(id: $id)\n}\n\nsubscription SimulationUpdated($id: ID) {\n  simulationUpdated(id: $id) {\n    ...SimulationSummary\n  }\n}": types.SimulationSummaryFragmentDoc,
    "fragment StackSummary on Stack {\n  id\n  name\n  status\n  stackKit {\n    id\n    name\n    tier\n  }\n  nodes {\n    id\n    hostname\n    address\n    role\n    status\n  }\n}\n\nmutation CreateStack($name: String!, $stackKitId: ID!, $nodes: [NodeInput!]!) {\n  createStack(name: $name, stackKitId: $stackKitId, nodes: $nodes) {\n    ...StackSummary\n  }\n}\n\nmutation CreateStackOnSimulation($name: String!, $stackKitId: ID!, $simulationId: ID!) {\n  createStack(\n    name: $name\n    stackKitId: $stackKitId\n    nodes: []\n    simulationId: $simulationId\n  ) {\n    ...StackSummary\n  }\n}\n\nmutation DeleteStack($id: ID!) {\n  deleteStack(id: $id)\n}\n\nmutation DeployStack($id: ID!) {\n  deployStack(id: $id) {\n    id\n    kind\n    status\n    progress\n  }\n}": types.StackSummaryFragmentDoc,
    "query MyHomelab {\n  myTenant {\n    id\n    name\n    slug\n    plan {\n      tier\n      name\n      limits {\n        maxStacks\n        maxSimulations\n        maxNodesPerSimulation\n      }\n    }\n    stacks {\n      ...StackSummary\n    }\n  }\n}\n\nmutation CreateTenant($name: String!, $slug: String) {\n  createTenant(name: $name, slug: $slug) {\n    id\n    slug\n    name\n  }\n}": types.MyHomelabDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Catalog {\n  stackKits {\n    id\n    name\n    version\n    description\n    tier\n    services\n    entitled\n  }\n  plans {\n    tier\n    name\n    priceMonthlyCents\n  }\n}"): (typeof documents)["query Catalog {\n  stackKits {\n    id\n    name\n    version\n    description\n    tier\n    services\n    entitled\n  }\n  plans {\n    tier\n    name\n    priceMonthlyCents\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "subscription JobUpdated($jobId: ID, $stackId: ID) {\n  jobUpdated(jobId: $jobId, stackId: $stackId) {\n    id\n    status\n    progress\n    message\n    stack {\n      name\n      stackKit {\n        name\n        tier\n      }\n    }\n  }\n}"): (typeof documents)["subscription JobUpdated($jobId: ID, $stackId: ID) {\n  jobUpdated(jobId: $jobId, stackId: $stackId) {\n    id\n    status\n    progress\n    message\n    stack {\n      name\n      stackKit {\n        name\n        tier\n      }\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment SimulationSummary on Simulation {\n  id\n  name\n  status\n  statusMessage\n  stackKit {\n    id\n    name\n  }\n  nodes {\n    name\n    containerId\n    image\n    sshHost\n    sshPort\n    status\n    statusMessage\n  }\n}\n\nquery Simulations {\n  simulations {\n    ...SimulationSummary\n  }\n}\n\nmutation CreateSimulation($name: String!, $nodeCount: Int!, $image: String, $stackKitId: ID) {\n  createSimulation(\n    name: $name\n    nodeCount: $nodeCount\n    image: $image\n    stackKitId: $stackKitId\n  ) {\n    ...SimulationSummary\n  }\n}\n\nmutation StartSimulation($id: ID!) {\n  startSimulation(id: $id) {\n    ...SimulationSummary\n  }\n}\n\nmutation StopSimulation($id: ID!) {\n  stopSimulation(id: $id) {\n    ...SimulationSummary\n  }\n}\n\nmutation DeleteSimulation($id: ID!) {\n  deleteSimulation(id: $id)\n}\n\nsubscription SimulationUpdated($id: ID) {\n  simulationUpdated(id: $id) {\n    ...SimulationSummary\n  }\n}"): (typeof documents)["fragment SimulationSummary on Simulation {\n  id\n  name\n  status\n  statusMessage\n  stackKit {\n    id\n    name\n  }\n  nodes {\n    name\n    containerId\n    image\n    sshHost\n    sshPort\n    status\n    statusMessage\n  }\n}\n\nquery Simulations {\n  simulations {\n    ...SimulationSummary\n  }\n}\n\nmutation CreateSimulation($name: String!, $nodeCount: Int!, $image: String, $stackKitId: ID) {\n  createSimulation(\n    name: $name\n    nodeCount: $nodeCount\n    image: $image\n    stackKitId: $stackKitId\n  ) {\n    ...SimulationSummary\n  }\n}\n\nmutation StartSimulation($id: ID!) {\n  startSimulation(id: $id) {\n    ...SimulationSummary\n  }\n}\n\nmutation StopSimulation($id: ID!) {\n  stopSimulation(id: $id) {\n    ...SimulationSummary\n  }\n}\n\nmutation DeleteSimulation($id: ID!) {\n  deleteSimulation(id: $id)\n}\n\nsubscription SimulationUpdated($id: ID) {\n  simulationUpdated(id: $id) {\n    ...SimulationSummary\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment StackSummary on Stack {\n  id\n  name\n  status\n  stackKit {\n    id\n    name\n    tier\n  }\n  nodes {\n    id\n    hostname\n    address\n    role\n    status\n  }\n}\n\nmutation CreateStack($name: String!, $stackKitId: ID!, $nodes: [NodeInput!]!) {\n  createStack(name: $name, stackKitId: $stackKitId, nodes: $nodes) {\n    ...StackSummary\n  }\n}\n\nmutation CreateStackOnSimulation($name: String!, $stackKitId: ID!, $simulationId: ID!) {\n  createStack(\n    name: $name\n    stackKitId: $stackKitId\n    nodes: []\n    simulationId: $simulationId\n  ) {\n    ...StackSummary\n  }\n}\n\nmutation DeleteStack($id: ID!) {\n  deleteStack(id: $id)\n}\n\nmutation DeployStack($id: ID!) {\n  deployStack(id: $id) {\n    id\n    kind\n    status\n    progress\n  }\n}"): (typeof documents)["fragment StackSummary on Stack {\n  id\n  name\n  status\n  stackKit {\n    id\n    name\n    tier\n  }\n  nodes {\n    id\n    hostname\n    address\n    role\n    status\n  }\n}\n\nmutation CreateStack($name: String!, $stackKitId: ID!, $nodes: [NodeInput!]!) {\n  createStack(name: $name, stackKitId: $stackKitId, nodes: $nodes) {\n    ...StackSummary\n  }\n}\n\nmutation CreateStackOnSimulation($name: String!, $stackKitId: ID!, $simulationId: ID!) {\n  createStack(\n    name: $name\n    stackKitId: $stackKitId\n    nodes: []\n    simulationId: $simulationId\n  ) {\n    ...StackSummary\n  }\n}\n\nmutation DeleteStack($id: ID!) {\n  deleteStack(id: $id)\n}\n\nmutation DeployStack($id: ID!) {\n  deployStack(id: $id) {\n    id\n    kind\n    status\n    progress\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query MyHomelab {\n  myTenant {\n    id\n    name\n    slug\n    plan {\n      tier\n      name\n      limits {\n        maxStacks\n        maxSimulations\n        maxNodesPerSimulation\n      }\n    }\n    stacks {\n      ...StackSummary\n    }\n  }\n}\n\nmutation CreateTenant($name: String!, $slug: String) {\n  createTenant(name: $name, slug: $slug) {\n    id\n    slug\n    name\n  }\n}"): (typeof documents)["query MyHomelab {\n  myTenant {\n    id\n    name\n    slug\n    plan {\n      tier\n      name\n      limits {\n        maxStacks\n        maxSimulations\n        maxNodesPerSimulation\n      }\n    }\n    stacks {\n      ...StackSummary\n    }\n  }\n}\n\nmutation CreateTenant($name: String!, $slug: String) {\n  createTenant(name: $name, slug: $slug) {\n    id\n    slug\n    name\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;