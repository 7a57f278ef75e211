import { composeServices } from "@apollo/composition";
import { parse } from "graphql";
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
    subgraphs: subgraphs.map(({ name, sdl }) => ({ name, sdl })),
    hints: (result.hints ?? []).map((hint) => hint.toString()),
  };
}
