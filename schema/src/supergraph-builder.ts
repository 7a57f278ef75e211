import { composeServices } from "@apollo/composition";
import { Supergraph } from "@apollo/federation-internals";
import { parse, printSchema } from "graphql";
import { schemaOnlyRuntime, SUBGRAPHS, type SubgraphFactory, type SubgraphName } from "@kombify/service-core";
import { createBillingSubgraph } from "@kombify/subgraph-billing";
import { createIdentitySubgraph } from "@kombify/subgraph-identity";
import { createSimulationSubgraph } from "@kombify/subgraph-simulation";
import { createStackSubgraph } from "@kombify/subgraph-stack";
import { createStackKitSubgraph } from "@kombify/subgraph-stackkit";
import { createTenantSubgraph } from "@kombify/subgraph-tenant";

/** Each subgraph's factory, by name: composition builds their SDL, tests start them in-process. */
export const SUBGRAPH_FACTORIES: Record<SubgraphName, SubgraphFactory> = {
  tenant: createTenantSubgraph,
  identity: createIdentitySubgraph,
  stack: createStackSubgraph,
  simulation: createSimulationSubgraph,
  stackkit: createStackKitSubgraph,
  billing: createBillingSubgraph,
};

export interface ComposedSupergraph {
  supergraphSdl: string;
  /** The API schema clients see (what the gateway serves): the supergraph without Federation's join and link machinery. */
  apiSdl: string;
  subgraphs: { name: SubgraphName; sdl: string }[];
  hints: string[];
}

export class CompositionFailed extends Error {
  constructor(readonly messages: string[]) {
    super(`Composition failed:\n${messages.map((m) => `  - ${m}`).join("\n")}`);
  }
}

/** Builds every subgraph's SDL from its code and composes them with @apollo/composition. */
export async function composeSupergraph(): Promise<ComposedSupergraph> {
  const subgraphs = [];
  for (const { name, defaultPort } of SUBGRAPHS) {
    const service = await SUBGRAPH_FACTORIES[name](schemaOnlyRuntime(name));
    subgraphs.push({ name, sdl: service.subgraph.sdl, url: `http://127.0.0.1:${defaultPort}/graphql` });
  }
  const result = composeServices(subgraphs.map(({ name, sdl, url }) => ({ name, url, typeDefs: parse(sdl) })));
  if (result.errors) throw new CompositionFailed(result.errors.map((error) => error.message));
  return {
    supergraphSdl: `${result.supergraphSdl.trim()}\n`,
    apiSdl: apiSchemaSdl(result.supergraphSdl),
    subgraphs: subgraphs.map(({ name, sdl }) => ({ name, sdl })),
    hints: (result.hints ?? []).map((hint) => hint.toString()),
  };
}

/** The API schema of a supergraph, printed: what clients' code generation and tools read. */
export function apiSchemaSdl(supergraphSdl: string): string {
  return `${printSchema(Supergraph.build(supergraphSdl).apiSchema().toGraphQLJSSchema()).trim()}\n`;
}
