import { runSubgraphMain } from "@kombify/service-core";
import { createIdentitySubgraph } from "./identity-subgraph.js";

await runSubgraphMain("identity", createIdentitySubgraph);
