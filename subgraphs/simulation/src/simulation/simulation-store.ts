import { and, asc, count, desc, eq, inArray, sql } from "drizzle-orm";
import { errors } from "@kombify/service-core/errors";
import { isUniqueViolation, type Db } from "@kombify/service-core/database";
import { isUuid } from "@kombify/service-core/identifiers";
import { simulationNodes, simulations, type SimulationNodeRow, type SimulationRow } from "../db/schema.js";
import { reserveSshPorts, type PortRange } from "../ssh/ssh-port-pool.js";
import type { SimulatedNode, Simulation, SimulationStatus } from "./simulation.type.js";

/** What a simulation or node row can hold (DELETED exists only in events). */
export type NodeStatus = Exclude<`${SimulationStatus}`, "DELETED">;

export interface NewSimulationRows {
  tenantId: string;
  name: string;
  image: string;
  stackKitId: string | null;
  nodeNames: string[];
  /** Throws (QUOTA_EXCEEDED) when the tenant, holding this many simulations, may not have another. */
  assertRoom(simulationsHeld: number): void;
  sshPorts: PortRange;
}

/** Simulation rows in PostgreSQL; every query a caller can reach is filtered by the tenant it is given. */
export class SimulationStore {
  constructor(
    private readonly db: Db,
    private readonly sshHost: string,
  ) {}

  async list(tenantId: string): Promise<Simulation[]> {
    const rows = await this.db
      .select()
      .from(simulations)
      .where(eq(simulations.tenantId, tenantId))
      .orderBy(desc(simulations.createdAt));
    return rows.map(toSimulation);
  }

  async get(tenantId: string, id: string): Promise<Simulation | null> {
    const row = await this.row(tenantId, id);
    return row ? toSimulation(row) : null;
  }

  async row(tenantId: string, id: string): Promise<SimulationRow | null> {
    if (!isUuid(id)) return null;
    const [row] = await this.db
      .select()
      .from(simulations)
      .where(and(eq(simulations.tenantId, tenantId), eq(simulations.id, id)));
    return row ?? null;
  }

  async nodesOf(tenantId: string, simulationId: string): Promise<SimulatedNode[]> {
    return (await this.nodeRows(tenantId, simulationId)).map(this.toSimulatedNode);
  }

  /** Each simulation's nodes, for many simulations in one query. */
  async nodesOfSimulations(tenantId: string, simulationIds: readonly string[]): Promise<Map<string, SimulatedNode[]>> {
    const bySimulation = new Map<string, SimulatedNode[]>(simulationIds.map((id) => [id, []]));
    const ids = simulationIds.filter(isUuid);
    if (ids.length === 0) return bySimulation;
    const rows = await this.db
      .select()
      .from(simulationNodes)
      .where(and(eq(simulationNodes.tenantId, tenantId), inArray(simulationNodes.simulationId, ids)))
      .orderBy(asc(sql`length(${simulationNodes.name})`), asc(simulationNodes.name));
    for (const row of rows) bySimulation.get(row.simulationId)?.push(this.toSimulatedNode(row));
    return bySimulation;
  }

  private readonly toSimulatedNode = (row: SimulationNodeRow): SimulatedNode => ({
    name: row.name,
    containerId: row.containerId,
    image: row.image,
    sshHost: this.sshHost,
    sshPort: row.sshPort,
    status: row.status,
    statusMessage: row.statusMessage,
  });

  async nodeRows(tenantId: string, simulationId: string): Promise<SimulationNodeRow[]> {
    return this.db
      .select()
      .from(simulationNodes)
      .where(and(eq(simulationNodes.tenantId, tenantId), eq(simulationNodes.simulationId, simulationId)))
      .orderBy(asc(sql`length(${simulationNodes.name})`), asc(simulationNodes.name));
  }

  /**
   * Inserts the simulation and its nodes with their SSH ports in one transaction. A per-tenant advisory lock
   * makes the quota count and the insert one step, so concurrent creates cannot exceed the plan or both take
   * the same name (the unique index is the backstop: CONFLICT).
   */
  async create(input: NewSimulationRows): Promise<SimulationRow> {
    try {
      return await this.db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`simulations:${input.tenantId}`}))`);
        const [existing] = await tx
          .select({ id: simulations.id })
          .from(simulations)
          .where(and(eq(simulations.tenantId, input.tenantId), eq(simulations.name, input.name)));
        if (existing) throw errors.conflict(`A simulation named "${input.name}" already exists.`);
        const [{ total } = { total: 0 }] = await tx
          .select({ total: count() })
          .from(simulations)
          .where(eq(simulations.tenantId, input.tenantId));
        input.assertRoom(total);
        const [row] = await tx
          .insert(simulations)
          .values({ tenantId: input.tenantId, name: input.name, image: input.image, stackKitId: input.stackKitId, status: "PENDING" })
          .returning();
        const ports = await reserveSshPorts(tx, input.nodeNames.length, input.sshPorts);
        await tx.insert(simulationNodes).values(
          input.nodeNames.map((name, index) => ({
            simulationId: row!.id,
            tenantId: input.tenantId,
            name,
            image: input.image,
            sshPort: ports[index]!,
            status: "PENDING",
          })),
        );
        return row!;
      });
    } catch (error) {
      if (isUniqueViolation(error, "simulations_tenant_name")) throw errors.conflict(`A simulation named "${input.name}" already exists.`);
      throw error;
    }
  }

  async setStatus(id: string, status: NodeStatus, statusMessage: string | null = null): Promise<void> {
    await this.db.update(simulations).set({ status, statusMessage }).where(eq(simulations.id, id));
  }

  /** Moves the simulation to `status` only from one of `from`; returns whether it moved. */
  async transition(id: string, from: readonly NodeStatus[], status: NodeStatus, statusMessage: string | null = null): Promise<boolean> {
    const moved = await this.db
      .update(simulations)
      .set({ status, statusMessage })
      .where(and(eq(simulations.id, id), inArray(simulations.status, [...from])))
      .returning({ id: simulations.id });
    return moved.length > 0;
  }

  async setNode(
    simulationId: string,
    name: string,
    patch: Partial<Pick<SimulationNodeRow, "status" | "statusMessage" | "containerId">>,
    onlyFrom?: readonly NodeStatus[],
  ): Promise<boolean> {
    const where = [eq(simulationNodes.simulationId, simulationId), eq(simulationNodes.name, name)];
    if (onlyFrom) where.push(inArray(simulationNodes.status, [...onlyFrom]));
    const updated = await this.db.update(simulationNodes).set(patch).where(and(...where)).returning({ name: simulationNodes.name });
    return updated.length > 0;
  }

  /** Deletes the simulation; its node rows (and so their SSH ports) go with it. */
  async delete(id: string): Promise<void> {
    await this.db.delete(simulations).where(eq(simulations.id, id));
  }

  async countOfTenant(tenantId: string): Promise<number> {
    const [{ total } = { total: 0 }] = await this.db.select({ total: count() }).from(simulations).where(eq(simulations.tenantId, tenantId));
    return total;
  }

  /** Every simulation and node of every tenant, for reconciliation with the engine (never for a caller). */
  async everything(): Promise<{ simulations: SimulationRow[]; nodes: SimulationNodeRow[] }> {
    const [allSimulations, nodes] = await Promise.all([this.db.select().from(simulations), this.db.select().from(simulationNodes)]);
    return { simulations: allSimulations, nodes };
  }

  /** The simulation by id alone: for engine events, whose labels we wrote ourselves. */
  async byId(id: string): Promise<SimulationRow | null> {
    if (!isUuid(id)) return null;
    const [row] = await this.db.select().from(simulations).where(eq(simulations.id, id));
    return row ?? null;
  }
}

export function toSimulation(row: Pick<SimulationRow, "id" | "name" | "statusMessage" | "stackKitId" | "createdAt"> & { status: string }): Simulation {
  return {
    id: row.id,
    name: row.name,
    status: row.status as SimulationStatus,
    statusMessage: row.statusMessage,
    stackKitId: row.stackKitId,
    createdAt: row.createdAt,
  };
}
