import { and, asc, desc, eq } from "drizzle-orm";
import { isUuid, tables, type Db, type SimulationRow } from "@kombify/service-core";
import type { SimulatedNode, Simulation, SimulationStatus } from "./simulation.type.js";

/** Simulation rows in PostgreSQL; every query is filtered by the tenant it is given. */
export class SimulationStore {
  constructor(
    private readonly db: Db,
    private readonly sshHost: string,
  ) {}

  async list(tenantId: string): Promise<Simulation[]> {
    const rows = await this.db
      .select()
      .from(tables.simulations)
      .where(eq(tables.simulations.tenantId, tenantId))
      .orderBy(desc(tables.simulations.createdAt));
    return rows.map(toSimulation);
  }

  async get(tenantId: string, id: string): Promise<Simulation | null> {
    if (!isUuid(id)) return null;
    const [row] = await this.db
      .select()
      .from(tables.simulations)
      .where(and(eq(tables.simulations.tenantId, tenantId), eq(tables.simulations.id, id)));
    return row ? toSimulation(row) : null;
  }

  async nodesOf(tenantId: string, simulationId: string): Promise<SimulatedNode[]> {
    const rows = await this.db
      .select()
      .from(tables.simulationNodes)
      .where(and(eq(tables.simulationNodes.tenantId, tenantId), eq(tables.simulationNodes.simulationId, simulationId)))
      .orderBy(asc(tables.simulationNodes.name));
    return rows.map((row) => ({
      name: row.name,
      containerId: row.containerId,
      image: row.image,
      sshHost: this.sshHost,
      sshPort: row.sshPort,
      status: row.status,
    }));
  }
}

function toSimulation(row: SimulationRow): Simulation {
  return {
    id: row.id,
    name: row.name,
    status: row.status as SimulationStatus,
    statusMessage: row.statusMessage,
    stackKitId: row.stackKitId,
    createdAt: row.createdAt,
  };
}
