import { pgSchema, text, uuid } from "drizzle-orm/pg-core";

/**
 * The simulation subgraph's published read model, for the stack subgraph (stacks deploy onto a simulation's
 * nodes): views its migrations maintain over its own tables. Read-only, always filtered by tenant; this module
 * imports only drizzle. Why a read model and not a call through the graph: the runner needs the nodes when it
 * validates a new stack and again when a job starts, with no caller's request to ride on.
 */
const simulationSchema = pgSchema("simulation");

/** Every simulation that exists; one missing here has been deleted. */
export const simulationDirectory = simulationSchema
  .view("simulation_directory", { tenantId: uuid("tenant_id").notNull(), simulationId: uuid("simulation_id").notNull(), name: text("name").notNull() })
  .existing();

/** Each simulation's nodes by name (their hostnames on the tenant's simulation network). */
export const nodeDirectory = simulationSchema
  .view("node_directory", {
    tenantId: uuid("tenant_id").notNull(),
    simulationId: uuid("simulation_id").notNull(),
    simulationName: text("simulation_name").notNull(),
    nodeName: text("node_name").notNull(),
  })
  .existing();
