export { createStackKitSubgraph } from "./stackkit-subgraph.js";
