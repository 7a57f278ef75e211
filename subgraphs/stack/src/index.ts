export { createStackSubgraph } from "./stack-subgraph.js";
