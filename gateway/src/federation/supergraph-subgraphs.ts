import { Kind, parse, type EnumTypeDefinitionNode } from "graphql";

/** The variable that overrides subgraph `name`'s URL: `SUBGRAPH_<NAME>_URL`, the name upper-cased, other characters `_`. */
export function subgraphUrlVariableOf(name: string): string {
  return `SUBGRAPH_${name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_URL`;
}

/** `SUBGRAPH_<NAME>_URL` values in `env`, by variable, for whichever subgraphs a supergraph names. */
export function subgraphUrlOverrides(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => /^SUBGRAPH_[A-Z0-9_]+_URL$/.test(entry[0]) && Boolean(entry[1])));
}

/**
 * The subgraphs a composed supergraph names (its `join__Graph` enum: each value's `@join__graph(name:, url:)`), each
 * at its `SUBGRAPH_<NAME>_URL` when set, else at the URL composition wrote. Any supergraph, not only ours: an operator
 * adds a subgraph by composing it in, with no change to the gateway.
 */
export function subgraphsOfSupergraph(supergraphSdl: string, overrides: Record<string, string>): Record<string, string> {
  const graphs = parse(supergraphSdl).definitions.find(
    (definition): definition is EnumTypeDefinitionNode => definition.kind === Kind.ENUM_TYPE_DEFINITION && definition.name.value === "join__Graph",
  );
  if (!graphs) throw new Error("The supergraph names no subgraphs (no join__Graph enum): is it a composed Federation 2 supergraph?");
  const urls: Record<string, string> = {};
  for (const value of graphs.values ?? []) {
    const directive = value.directives?.find((candidate) => candidate.name.value === "join__graph");
    const argument = (name: string) => {
      const node = directive?.arguments?.find((candidate) => candidate.name.value === name)?.value;
      return node?.kind === Kind.STRING ? node.value : undefined;
    };
    const name = argument("name");
    if (!name) continue;
    const url = overrides[subgraphUrlVariableOf(name)] ?? argument("url");
    if (!url) throw new Error(`Subgraph ${name} has no URL in the supergraph: set ${subgraphUrlVariableOf(name)}.`);
    urls[name] = url;
  }
  return urls;
}
