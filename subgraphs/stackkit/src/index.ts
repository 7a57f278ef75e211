export { stackKitSubgraph } from "./stackkit-subgraph.js";
