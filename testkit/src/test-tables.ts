import { auditLog, installation } from "@kombify/service-core/database";
import { billingSubscriptions } from "@kombify/subgraph-billing";
import { users } from "@kombify/subgraph-identity";
import { simulationNodes, simulations } from "@kombify/subgraph-simulation";
import { jobQueue, stackSimulations } from "@kombify/subgraph-stack";
import { featureFlagOverrides, stackInstances, tenants } from "@kombify/subgraph-tenant";

/**
 * Every owner's tables, for tests that look at the whole installation's rows from outside (what a request left
 * behind, data seeded beside the API). Services never see this: each reads its own schema only.
 */
export const tables = {
  auditLog,
  installation,
  billingSubscriptions,
  users,
  simulations,
  simulationNodes,
  jobQueue,
  stackSimulations,
  featureFlagOverrides,
  stackInstances,
  tenants,
};
