export { createIdentitySubgraph } from "./identity-subgraph.js";
