import { pgSchema, primaryKey, text, timestamp, uniqueIndex, uuid, index } from "drizzle-orm/pg-core";
import { migrationSet } from "@kombify/service-core/database";

/**
 * The stack subgraph's tables (stacks, nodes and jobs themselves live in the tenant's PocketBase namespace).
 * Tenant and simulation ids are references by value: their owners publish what the stack needs of them.
 */
export const stackSchema = pgSchema("stack");

export const stackMigrations = migrationSet("stack", "./migrations", import.meta.url);

/**
 * Jobs waiting for or held by a runner; the job itself (status, progress, logs) lives in the tenant's
 * PocketBase namespace. One row per active job, at most one per stack; a runner claims rows with
 * FOR UPDATE SKIP LOCKED and holds a session advisory lock while it lives, so a dead runner's claims are
 * recognisable at once.
 */
export const jobQueue = stackSchema.table(
  "job_queue",
  {
    jobId: text("job_id").primaryKey(),
    tenantId: uuid("tenant_id").notNull(),
    stackId: text("stack_id").notNull(),
    kind: text("kind").notNull(),
    /** The stack's status before the job, restored when the job is cancelled. */
    stackStatusBefore: text("stack_status_before").notNull(),
    enqueuedAt: timestamp("enqueued_at", { withTimezone: true }).notNull().defaultNow(),
    claimedBy: text("claimed_by"),
    claimedAt: timestamp("claimed_at", { withTimezone: true }),
  },
  (t) => [uniqueIndex("job_queue_one_per_stack").on(t.tenantId, t.stackId), index("job_queue_unclaimed").on(t.enqueuedAt)],
);

export type JobQueueRow = typeof jobQueue.$inferSelect;

/**
 * Which stacks deploy onto a simulation's nodes. The simulation id stays when the simulation is deleted: the
 * simulation subgraph's published directory no longer lists it, and the stack's deploys then fail instead of
 * silently running nowhere.
 */
export const stackSimulations = stackSchema.table(
  "stack_simulations",
  {
    tenantId: uuid("tenant_id").notNull(),
    stackId: text("stack_id").notNull(),
    simulationId: uuid("simulation_id"),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.stackId] })],
);
