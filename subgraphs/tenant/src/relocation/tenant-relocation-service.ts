import type { NamespaceResolver, PocketBaseConnections } from "@kombify/homelab-store";
import type { SubgraphRuntime } from "@kombify/service-core/server/subgraph-runtime";
import type { InstanceDirectory } from "../directory/instance-directory.js";
import type { TenantDirectory } from "../directory/tenant-directory.js";
import type { FeatureFlags } from "../feature-flag/feature-flags.js";
import { TenantMover } from "./tenant-mover.js";
import { TenantPlacement, type InstanceSupply, type PlanPlacementRegions } from "./tenant-placement.js";
import { TenantRelocationResolver } from "./tenant-relocation.resolver.js";
import { TenantRelocations } from "./tenant-relocations.js";

export interface TenantRelocationService {
  placement: TenantPlacement;
  resolver: TenantRelocationResolver;
  /** Resumes what a previous process left unfinished, then sweeps every interval. */
  start(): void;
  stop(): Promise<void>;
}

/** Moves, plan-driven placement and drains, wired for the tenant subgraph. */
export function tenantRelocationService(deps: {
  runtime: SubgraphRuntime;
  instances: InstanceDirectory;
  tenants: TenantDirectory;
  namespaces: NamespaceResolver;
  connections: PocketBaseConnections;
  flags: FeatureFlags;
  supply: InstanceSupply;
  sweepIntervalMs: number;
  /** The regions whose tenants plan changes move (ENTERPRISE to a DEDICATED instance and back). */
  planRegions: PlanPlacementRegions;
}): TenantRelocationService {
  const { runtime } = deps;
  const relocations = new TenantRelocations(runtime.db);
  const mover = new TenantMover({
    relocations,
    instances: deps.instances,
    tenants: deps.tenants,
    namespaces: deps.namespaces,
    connections: deps.connections,
    sql: runtime.database.sql,
    log: runtime.log,
    afterSwitch: async (tenantId) => {
      const tenant = await deps.tenants.byId(tenantId);
      if (tenant) await deps.flags.syncToNamespace(tenant);
    },
  });
  const placement = new TenantPlacement(runtime.db, runtime.database.sql, deps.instances, relocations, mover, deps.supply, runtime.log, deps.planRegions);
  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<void> = Promise.resolve();
  const sweep = () => {
    sweeping = sweeping.then(() => placement.sweep()).catch((error) => runtime.log.warn({ err: error }, "the tenant placement sweep failed"));
  };
  return {
    placement,
    resolver: new TenantRelocationResolver(runtime.db, placement, relocations),
    start() {
      sweep();
      timer = setInterval(sweep, deps.sweepIntervalMs);
      timer.unref();
    },
    // A move cut short by the shutdown is resumed by the next start (or another replica's sweep).
    async stop() {
      clearInterval(timer);
    },
  };
}
