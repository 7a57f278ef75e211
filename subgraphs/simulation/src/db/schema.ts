import { integer, pgSchema, primaryKey, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { migrationSet } from "@kombify/service-core/database";

/**
 * The simulation subgraph's tables. Tenant ids are references by value (tenants belong to the tenant subgraph);
 * the stack runner reads simulations only through the published directory (`published/simulation-directory.ts`).
 */
export const simulationSchema = pgSchema("simulation");

export const simulationMigrations = migrationSet("simulation", "./migrations", import.meta.url);

export const simulationStatus = simulationSchema.enum("simulation_status", ["PENDING", "PROVISIONING", "RUNNING", "STOPPING", "STOPPED", "FAILED"]);

export const simulations = simulationSchema.table(
  "simulations",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id").notNull(),
    name: text("name").notNull(),
    status: simulationStatus("status").notNull().default("PENDING"),
    statusMessage: text("status_message"),
    image: text("image").notNull(),
    stackKitId: text("stack_kit_id"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("simulations_tenant_name").on(t.tenantId, t.name)],
);

export const simulationNodes = simulationSchema.table(
  "simulation_nodes",
  {
    simulationId: uuid("simulation_id")
      .notNull()
      .references(() => simulations.id, { onDelete: "cascade" }),
    tenantId: uuid("tenant_id").notNull(),
    name: text("name").notNull(),
    containerId: text("container_id"),
    image: text("image").notNull(),
    sshPort: integer("ssh_port").unique(),
    status: text("status").notNull().default("PENDING"),
    statusMessage: text("status_message"),
  },
  (t) => [primaryKey({ columns: [t.simulationId, t.name] })],
);

export type SimulationRow = typeof simulations.$inferSelect;
export type SimulationNodeRow = typeof simulationNodes.$inferSelect;
