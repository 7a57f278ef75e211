// Which subgraphs exist and where each one's URL is configured: all the gateway needs of federation.
// Building a subgraph's schema loads type-graphql and reflect-metadata, which only subgraphs need, so it has its
// own entry: `@kombify/service-core/federation/subgraph-schema` (build-subgraph-schema.ts).
export { SUBGRAPHS, subgraphUrlVariable, type SubgraphName } from "./subgraph-registry.js";
