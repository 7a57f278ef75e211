import { composeServices } from "@apollo/composition";
import { Supergraph } from "@apollo/federation-internals";
import { parse, printSchema } from "graphql";
import { SUBGRAPHS, type SubgraphName } from "@kombify/service-core/federation";
import { buildSchemaOnly, type SubgraphDefinition } from "@kombify/service-core/server/subgraph-runtime";
import { billingSubgraph } from "@kombify/subgraph-billing";
import { identitySubgraph } from "@kombify/subgraph-identity";
import { simulationSubgraph } from "@kombify/subgraph-simulation";
import { stackSubgraph } from "@kombify/subgraph-stack";
import { stackKitSubgraph } from "@kombify/subgraph-stackkit";
import { tenantSubgraph } from "@kombify/subgraph-tenant";

/** Each subgraph's definition, by name: composition builds their SDL, tests start them in-process. */
export const SUBGRAPH_DEFINITIONS = {
  tenant: tenantSubgraph,
  identity: identitySubgraph,
  stack: stackSubgraph,
  simulation: simulationSubgraph,
  stackkit: stackKitSubgraph,
  billing: billingSubgraph,
} satisfies Record<SubgraphName, SubgraphDefinition<any>>;

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
    const built = await buildSchemaOnly<any>(SUBGRAPH_DEFINITIONS[name]);
    subgraphs.push({ name, sdl: built.sdl, url: `http://127.0.0.1:${defaultPort}/graphql` });
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
