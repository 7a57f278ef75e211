import { composeServices } from "@apollo/composition";
import { benchSubgraphs, type BenchSubgraphName } from "./schemas.js";

/** The benchmark subgraphs composed, as any Federation 2 supergraph, with each subgraph at `urls[name]`. */
export function composeBenchSupergraph(urls: Record<BenchSubgraphName, string>): string {
  const result = composeServices(benchSubgraphs().map(({ name, typeDefs }) => ({ name, typeDefs, url: urls[name] })));
  if (result.errors) throw new Error(`The benchmark subgraphs do not compose:\n${result.errors.map((error) => `  ${error.message}`).join("\n")}`);
  return result.supergraphSdl;
}
