/** The six subgraphs of the supergraph, with the port each listens on by default. */
export const SUBGRAPHS = [
  { name: "tenant", defaultPort: 4001 },
  { name: "identity", defaultPort: 4002 },
  { name: "stack", defaultPort: 4003 },
  { name: "simulation", defaultPort: 4004 },
  { name: "stackkit", defaultPort: 4005 },
  { name: "billing", defaultPort: 4006 },
] as const;

export type SubgraphName = (typeof SUBGRAPHS)[number]["name"];

/** The environment variable that points the gateway (and the launcher) at a subgraph, e.g. SUBGRAPH_STACK_URL. */
export const subgraphUrlVariable = (name: SubgraphName) => `SUBGRAPH_${name.toUpperCase()}_URL`;
