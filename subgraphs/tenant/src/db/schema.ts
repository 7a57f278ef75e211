import { bigserial, boolean, index, integer, pgSchema, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { migrationSet } from "@kombify/service-core/database";

/** The tenant subgraph's tables. Others learn of tenants only through the published `tenant_directory` view. */
export const tenantSchema = pgSchema("tenant");

export const tenantMigrations = migrationSet("tenant", "./migrations", import.meta.url);

export const deploymentMode = tenantSchema.enum("deployment_mode", ["SHARED", "DEDICATED"]);

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();

/** A KombiStack instance: one PocketBase that holds up to maxTenants tenant namespaces. */
export const stackInstances = tenantSchema.table("stack_instances", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name").notNull().unique(),
  region: text("region").notNull(),
  deploymentMode: deploymentMode("deployment_mode").notNull().default("SHARED"),
  maxTenants: integer("max_tenants").notNull(),
  pocketbaseUrl: text("pocketbase_url").notNull(),
  healthy: boolean("healthy").notNull().default(true),
  /** Which provisioner made it (`process`, `docker`, …), or `configured`: registered from this deployment's configuration. */
  provisioner: text("provisioner").notNull().default("configured"),
  /** The provisioner's own handle on it (opaque to everyone else), to remove it by. */
  provisionerHandle: text("provisioner_handle"),
  /** Retired: takes no tenants, is not health-checked, its PocketBase removed. */
  retiredAt: timestamp("retired_at", { withTimezone: true }),
  createdAt: createdAt(),
});

export const tenants = tenantSchema.table("tenants", {
  id: uuid("id").primaryKey().defaultRandom(),
  slug: text("slug").notNull().unique(),
  name: text("name").notNull(),
  zitadelOrgId: text("zitadel_org_id").notNull().unique(),
  instanceId: uuid("instance_id")
    .notNull()
    .references(() => stackInstances.id),
  createdAt: createdAt(),
});

/** Per-tenant overrides on top of the flags the plan gives. */
export const featureFlagOverrides = tenantSchema.table(
  "feature_flag_overrides",
  {
    tenantId: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    key: text("key").notNull(),
    enabled: boolean("enabled").notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.key] })],
);

/** Tenant creations admitted within the rate limits' window, by the client address the gateway signed. */
export const tenantCreationAdmissions = tenantSchema.table(
  "tenant_creation_admissions",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    clientAddress: text("client_address"),
    admittedAt: timestamp("admitted_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("tenant_creation_admissions_admitted_at_idx").on(t.admittedAt), index("tenant_creation_admissions_address_idx").on(t.clientAddress, t.admittedAt)],
);

export type StackInstanceRow = typeof stackInstances.$inferSelect;
export type TenantRow = typeof tenants.$inferSelect;

export const relocationPhases = ["fencing", "copying", "switching", "cleaning", "rolling_back", "done", "rolled_back"] as const;
export type RelocationPhase = (typeof relocationPhases)[number];

/**
 * A move of a tenant's namespace from one instance to another, kept phase by phase so a mover that dies is
 * resumed (or rolled back) by the next: at most one unfinished move per tenant (a partial unique index).
 */
export const tenantRelocations = tenantSchema.table("tenant_relocations", {
  id: uuid("id").primaryKey().defaultRandom(),
  tenantId: uuid("tenant_id")
    .notNull()
    .references(() => tenants.id, { onDelete: "cascade" }),
  fromInstanceId: uuid("from_instance_id")
    .notNull()
    .references(() => stackInstances.id),
  toInstanceId: uuid("to_instance_id")
    .notNull()
    .references(() => stackInstances.id),
  reason: text("reason").notNull(),
  phase: text("phase", { enum: relocationPhases }).notNull().default("fencing"),
  copiedRecords: integer("copied_records").notNull().default(0),
  checksum: text("checksum"),
  error: text("error"),
  requestedBy: text("requested_by"),
  createdAt: createdAt(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  finishedAt: timestamp("finished_at", { withTimezone: true }),
});

export type TenantRelocationRow = typeof tenantRelocations.$inferSelect;
