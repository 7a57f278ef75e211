import { runSubgraphMain } from "@kombify/service-core";
import { createBillingSubgraph } from "./billing-subgraph.js";

await runSubgraphMain("billing", createBillingSubgraph);
