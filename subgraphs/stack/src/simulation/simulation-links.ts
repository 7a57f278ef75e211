import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { batchLoader, type BatchLoader, PerRequest } from "@kombify/service-core/graphql";
import { errors } from "@kombify/service-core/errors";
import { isUuid } from "@kombify/service-core/identifiers";
import { requireTenant, type RequestContext, type TenantRef } from "@kombify/service-core/auth";
import type { Db } from "@kombify/service-core/database";
import { nodeDirectory, simulationDirectory } from "@kombify/subgraph-simulation/simulation-directory";
import { stackSimulations } from "../db/schema.js";
import type { NodeInput } from "../stack/stack.type.js";

/**
 * Stacks that deploy onto a simulation's nodes (KombiSim). The simulation and its nodes are read from the
 * simulation subgraph's published directory (a read model: the runner needs them with no request to ride on),
 * always within the caller's tenant; the link lets the runner execute steps inside the containers.
 */
export class SimulationLinks {
  constructor(private readonly db: Db) {}

  /** simulationOf for every stack an operation asks about, in one query. */
  private readonly perContext = new PerRequest<RequestContext, BatchLoader<string, string | "deleted" | null>>((context) => {
    const tenantId = requireTenant(context).id;
    return batchLoader(async (stackIds: string[]) => {
      const rows = await this.db
        .select({ stackId: stackSimulations.stackId, simulationId: simulationDirectory.simulationId })
        .from(stackSimulations)
        .leftJoin(simulationDirectory, and(eq(simulationDirectory.simulationId, stackSimulations.simulationId), eq(simulationDirectory.tenantId, tenantId)))
        .where(and(eq(stackSimulations.tenantId, tenantId), inArray(stackSimulations.stackId, stackIds)));
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
          .from(simulationDirectory)
          .where(and(eq(simulationDirectory.tenantId, tenant.id), eq(simulationDirectory.simulationId, simulationId)))
      : [];
    if (!simulation) throw errors.badInput("simulationId", `no simulation ${simulationId} exists in your tenant.`);
    const nodes = await this.db
      .select({ name: nodeDirectory.nodeName })
      .from(nodeDirectory)
      .where(and(eq(nodeDirectory.tenantId, tenant.id), eq(nodeDirectory.simulationId, simulation.simulationId)))
      .orderBy(asc(sql`length(${nodeDirectory.nodeName})`), asc(nodeDirectory.nodeName));
    return nodes.map((node) => ({
      hostname: node.name,
      address: node.name,
      role: "simulated",
    }));
  }

  /** `db`: the caller's transaction when it holds one (a stack created under its tenant's write lock). */
  async link(tenantId: string, stackId: string, simulationId: string, db: Pick<Db, "insert"> = this.db): Promise<void> {
    await db.insert(stackSimulations).values({ tenantId, stackId, simulationId });
  }

  async unlink(tenantId: string, stackId: string): Promise<void> {
    await this.db.delete(stackSimulations).where(and(eq(stackSimulations.tenantId, tenantId), eq(stackSimulations.stackId, stackId)));
  }

  /** The simulation the stack deploys onto: null for a stack of real nodes; "deleted" once its simulation is gone. */
  async simulationOf(tenantId: string, stackId: string): Promise<string | "deleted" | null> {
    const [row] = await this.db
      .select({ simulationId: simulationDirectory.simulationId })
      .from(stackSimulations)
      .leftJoin(simulationDirectory, and(eq(simulationDirectory.simulationId, stackSimulations.simulationId), eq(simulationDirectory.tenantId, tenantId)))
      .where(and(eq(stackSimulations.tenantId, tenantId), eq(stackSimulations.stackId, stackId)));
    if (!row) return null;
    return row.simulationId ?? "deleted";
  }
}
