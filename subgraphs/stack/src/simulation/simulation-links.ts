import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { batchLoader, errors, type BatchLoader, isUuid, PerRequest, requireTenant, tables, type Db, type RequestContext, type TenantRef } from "@kombify/service-core";
import type { NodeInput } from "../stack/stack.type.js";

/**
 * Stacks that deploy onto a simulation's nodes (KombiSim). The simulation and its nodes are read from
 * PostgreSQL, always within the caller's tenant; the link lets the runner execute steps inside the containers.
 */
export class SimulationLinks {
  constructor(private readonly db: Db) {}

  /** simulationOf for every stack an operation asks about, in one query. */
  private readonly perContext = new PerRequest<RequestContext, BatchLoader<string, string | "deleted" | null>>((context) => {
    const tenantId = requireTenant(context).id;
    return batchLoader(async (stackIds: string[]) => {
      const rows = await this.db
        .select({ stackId: tables.stackSimulations.stackId, simulationId: tables.stackSimulations.simulationId })
        .from(tables.stackSimulations)
        .where(and(eq(tables.stackSimulations.tenantId, tenantId), inArray(tables.stackSimulations.stackId, stackIds)));
      const byStack = new Map(rows.map((row) => [row.stackId, row.simulationId ?? "deleted"]));
      return stackIds.map((stackId) => byStack.get(stackId) ?? null);
    });
  });

  batchedFor(context: RequestContext): BatchLoader<string, string | "deleted" | null> {
    return this.perContext.of(context);
  }

  /** The stack nodes standing for the simulation's nodes: hostname and address = the node's name on its tenant network. */
  async nodesOf(tenant: TenantRef, simulationId: string): Promise<NodeInput[]> {
    const [simulation] = isUuid(simulationId)
      ? await this.db
          .select()
          .from(tables.simulations)
          .where(and(eq(tables.simulations.tenantId, tenant.id), eq(tables.simulations.id, simulationId)))
      : [];
    if (!simulation) throw errors.badInput("simulationId", `no simulation ${simulationId} exists in your tenant.`);
    const nodes = await this.db
      .select({ name: tables.simulationNodes.name })
      .from(tables.simulationNodes)
      .where(and(eq(tables.simulationNodes.tenantId, tenant.id), eq(tables.simulationNodes.simulationId, simulation.id)))
      .orderBy(asc(sql`length(${tables.simulationNodes.name})`), asc(tables.simulationNodes.name));
    return nodes.map((node) => ({
      hostname: node.name,
      address: node.name,
      role: "simulated",
    }));
  }

  /** `db`: the caller's transaction when it holds one (a stack created under its tenant's write lock). */
  async link(tenantId: string, stackId: string, simulationId: string, db: Pick<Db, "insert"> = this.db): Promise<void> {
    await db.insert(tables.stackSimulations).values({ tenantId, stackId, simulationId });
  }

  async unlink(tenantId: string, stackId: string): Promise<void> {
    await this.db.delete(tables.stackSimulations).where(and(eq(tables.stackSimulations.tenantId, tenantId), eq(tables.stackSimulations.stackId, stackId)));
  }

  /** The simulation the stack deploys onto: null for a stack of real nodes; "deleted" once its simulation is gone. */
  async simulationOf(tenantId: string, stackId: string): Promise<string | "deleted" | null> {
    const [row] = await this.db
      .select({ simulationId: tables.stackSimulations.simulationId })
      .from(tables.stackSimulations)
      .where(and(eq(tables.stackSimulations.tenantId, tenantId), eq(tables.stackSimulations.stackId, stackId)));
    if (!row) return null;
    return row.simulationId ?? "deleted";
  }
}
