import { sql } from "drizzle-orm";
import { pgSchema, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { migrationSet } from "@kombify/service-core/database";

/** The identity subgraph's tables. */
export const identitySchema = pgSchema("identity");

export const identityMigrations = migrationSet("identity", "./migrations", import.meta.url);

/** Identity's cache of Zitadel users, refreshed from verified tokens; the tenant id is kept by value. */
export const users = identitySchema.table("users", {
  id: text("id").primaryKey(),
  email: text("email").notNull(),
  displayName: text("display_name"),
  roles: text("roles").array().notNull().default(sql`'{}'::text[]`),
  tenantId: uuid("tenant_id"),
  lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull().defaultNow(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

export type UserRow = typeof users.$inferSelect;
