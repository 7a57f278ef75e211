import { runSubgraphMain } from "@kombify/service-core";
import { createTenantSubgraph } from "./tenant-subgraph.js";

await runSubgraphMain("tenant", createTenantSubgraph);
