import { sql } from "drizzle-orm";
import {
  bigserial,
  boolean,
  check,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  index,
} from "drizzle-orm/pg-core";

export const deploymentMode = pgEnum("deployment_mode", ["SHARED", "DEDICATED"]);
export const planTier = pgEnum("plan_tier", ["FREE", "PRO", "ENTERPRISE"]);
export const simulationStatus = pgEnum("simulation_status", [
  "PENDING",
  "PROVISIONING",
  "RUNNING",
  "STOPPING",
  "STOPPED",
  "FAILED",
]);

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();

/**
 * This installation's identity, one row written by its migration: what labels its Docker containers, the same
 * for every service whatever address each reaches the database at.
 */
export const installation = pgTable(
  "installation",
  {
    singleton: boolean("singleton").primaryKey().default(true),
    id: uuid("id").notNull().defaultRandom(),
  },
  (t) => [check("installation_one_row", sql`${t.singleton}`)],
);

/** A KombiStack instance: one PocketBase that holds up to maxTenants tenant namespaces. */
export const stackInstances = pgTable("stack_instances", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name").notNull().unique(),
  region: text("region").notNull(),
  deploymentMode: deploymentMode("deployment_mode").notNull().default("SHARED"),
  maxTenants: integer("max_tenants").notNull(),
  pocketbaseUrl: text("pocketbase_url").notNull(),
  healthy: boolean("healthy").notNull().default(true),
  createdAt: createdAt(),
});

export const tenants = pgTable("tenants", {
  id: uuid("id").primaryKey().defaultRandom(),
  slug: text("slug").notNull().unique(),
  name: text("name").notNull(),
  zitadelOrgId: text("zitadel_org_id").notNull().unique(),
  instanceId: uuid("instance_id")
    .notNull()
    .references(() => stackInstances.id),
  createdAt: createdAt(),
});

/** The tenant a row belongs to: required, and removed with it. */
const ownedByTenant = () =>
  uuid("tenant_id")
    .notNull()
    .references(() => tenants.id, { onDelete: "cascade" });

/** Per-tenant overrides on top of the flags the plan gives. */
export const featureFlagOverrides = pgTable(
  "feature_flag_overrides",
  {
    tenantId: ownedByTenant(),
    key: text("key").notNull(),
    enabled: boolean("enabled").notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.key] })],
);

/** Identity's cache of Zitadel users, refreshed from verified tokens. */
export const users = pgTable("users", {
  id: text("id").primaryKey(),
  email: text("email").notNull(),
  displayName: text("display_name"),
  roles: text("roles").array().notNull().default(sql`'{}'::text[]`),
  tenantId: uuid("tenant_id").references(() => tenants.id, { onDelete: "set null" }),
  lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull().defaultNow(),
  createdAt: createdAt(),
});

/** The mirror of each tenant's Stripe subscription; Stripe is the source of truth. */
export const billingSubscriptions = pgTable("billing_subscriptions", {
  tenantId: uuid("tenant_id")
    .primaryKey()
    .references(() => tenants.id, { onDelete: "cascade" }),
  stripeCustomerId: text("stripe_customer_id"),
  stripeSubscriptionId: text("stripe_subscription_id"),
  status: text("status").notNull(),
  planTier: planTier("plan_tier").notNull(),
  currentPeriodEnd: timestamp("current_period_end", { withTimezone: true }),
  cancelAtPeriodEnd: boolean("cancel_at_period_end").notNull().default(false),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

/** Stripe event ids already applied: webhooks are retried and arrive out of order. */
export const stripeEvents = pgTable("stripe_events", {
  id: text("id").primaryKey(),
  type: text("type").notNull(),
  receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
});

export const simulations = pgTable(
  "simulations",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: ownedByTenant(),
    name: text("name").notNull(),
    status: simulationStatus("status").notNull().default("PENDING"),
    statusMessage: text("status_message"),
    image: text("image").notNull(),
    stackKitId: text("stack_kit_id"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("simulations_tenant_name").on(t.tenantId, t.name)],
);

export const simulationNodes = pgTable(
  "simulation_nodes",
  {
    simulationId: uuid("simulation_id")
      .notNull()
      .references(() => simulations.id, { onDelete: "cascade" }),
    tenantId: ownedByTenant(),
    name: text("name").notNull(),
    containerId: text("container_id"),
    image: text("image").notNull(),
    sshPort: integer("ssh_port").unique(),
    status: text("status").notNull().default("PENDING"),
    statusMessage: text("status_message"),
  },
  (t) => [primaryKey({ columns: [t.simulationId, t.name] })],
);

export const auditLog = pgTable(
  "audit_log",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    tenantId: uuid("tenant_id").references(() => tenants.id, { onDelete: "set null" }),
    actorUserId: text("actor_user_id"),
    action: text("action").notNull(),
    target: text("target"),
    requestId: text("request_id"),
    details: jsonb("details"),
  },
  (t) => [index("audit_log_tenant_at").on(t.tenantId, t.at)],
);

export type StackInstanceRow = typeof stackInstances.$inferSelect;
export type TenantRow = typeof tenants.$inferSelect;
export type UserRow = typeof users.$inferSelect;
export type BillingSubscriptionRow = typeof billingSubscriptions.$inferSelect;
export type SimulationRow = typeof simulations.$inferSelect;
export type SimulationNodeRow = typeof simulationNodes.$inferSelect;
export type AuditLogRow = typeof auditLog.$inferSelect;

/**
 * Jobs waiting for or held by a runner; the job itself (status, progress, logs) lives in the tenant's
 * PocketBase namespace. One row per active job, at most one per stack; a runner claims rows with
 * FOR UPDATE SKIP LOCKED and holds a session advisory lock while it lives, so a dead runner's claims are
 * recognisable at once.
 */
export const jobQueue = pgTable(
  "job_queue",
  {
    jobId: text("job_id").primaryKey(),
    tenantId: ownedByTenant(),
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

/** Which stacks deploy onto a simulation's nodes (stacks live in PocketBase, simulations here). */
export const stackSimulations = pgTable(
  "stack_simulations",
  {
    tenantId: ownedByTenant(),
    stackId: text("stack_id").notNull(),
    /** null once the simulation is deleted: the stack's deploys then fail instead of silently running nowhere. */
    simulationId: uuid("simulation_id").references(() => simulations.id, { onDelete: "set null" }),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.stackId] })],
);
