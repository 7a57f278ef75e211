import { sql } from "drizzle-orm";
import { bigserial, boolean, check, index, jsonb, pgSchema, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { migrationSet } from "../migration-sets.js";

/**
 * The kernel's own tables, in the `platform` schema, applied by every service with its own set: they belong to no
 * subgraph. The installation's identity labels every Docker container; the audit trail is written by every
 * service (an append-only record of who did what, like the log) and read through `audit/audit-log.ts` only.
 */
export const platform = pgSchema("platform");

export const platformMigrations = migrationSet("platform", "./migrations", import.meta.url);

/** This installation's identity, one row written by its migration: the same for every service. */
export const installation = platform.table(
  "installation",
  {
    singleton: boolean("singleton").primaryKey().default(true),
    id: uuid("id").notNull().defaultRandom(),
  },
  (t) => [check("installation_one_row", sql`${t.singleton}`)],
);

/** Tenant ids here are references by value: the tenant subgraph owns tenants, and an audit row outlives its tenant. */
export const auditLog = platform.table(
  "audit_log",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    tenantId: uuid("tenant_id"),
    actorUserId: text("actor_user_id"),
    action: text("action").notNull(),
    target: text("target"),
    requestId: text("request_id"),
    details: jsonb("details"),
  },
  (t) => [index("audit_log_tenant_at").on(t.tenantId, t.at)],
);

export type AuditLogRow = typeof auditLog.$inferSelect;
