import type PocketBase from "pocketbase";
import { callPocketBase, isNotFound, namespaceCollections, type NamespaceCollections } from "@kombify/homelab-store";
import type { Logger } from "@kombify/service-core/logging";
import type { TenantRow } from "../db/schema.js";
import type { TenantDirectory } from "./tenant-directory.js";

/** KombiStack's collections before multi-tenancy; their presence marks an instance as un-namespaced. */
const KOMBISTACK_ONLY: (keyof NamespaceCollections)[] = ["stacks", "nodes", "jobs"];
const ALL: (keyof NamespaceCollections)[] = ["users", "stacks", "nodes", "jobs"];
export const DEFAULT_TENANT_SLUG = "default";

export interface LegacyMigration {
  pb: PocketBase;
  instanceUrl: string;
  instanceId: string;
  /** The Zitadel organisation that owns the pre-multi-tenant data. */
  orgId: string;
  tenants: TenantDirectory;
  log: Logger;
}

async function exists(pb: PocketBase, name: string): Promise<boolean> {
  try {
    await pb.collections.getOne(name);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/** Whether the instance still holds un-namespaced KombiStack collections (plain stacks, nodes, jobs). */
export async function hasLegacyCollections(pb: PocketBase, instanceUrl: string): Promise<boolean> {
  return callPocketBase(instanceUrl, async () => {
    for (const name of KOMBISTACK_ONLY) if (await exists(pb, name)) return true;
    return false;
  });
}

/**
 * The seeds' migration 003_multi_tenancy: creates the `default` tenant and renames users/stacks/nodes/jobs
 * to users_default/... Relations survive (PocketBase links by collection id); missing fields and the
 * namespace's API rules are added by provisioning. Safe to re-run: it finishes a half-done migration and
 * otherwise does nothing.
 */
export async function migrateLegacyCollections(migration: LegacyMigration): Promise<TenantRow | null> {
  const { pb, instanceUrl, log } = migration;
  const targets = namespaceCollections(DEFAULT_TENANT_SLUG);
  const renamed = await callPocketBase(instanceUrl, async () => {
    if (!(await hasLegacyCollections(pb, instanceUrl))) return false;
    for (const legacy of ALL) {
      if (!(await exists(pb, legacy))) continue;
      if (await exists(pb, targets[legacy])) {
        throw new Error(`Both ${legacy} and ${targets[legacy]} exist on ${instanceUrl}: merge them by hand before migrating.`);
      }
      const collection = await pb.collections.getOne(legacy);
      await pb.collections.update(collection.id, { name: targets[legacy] });
      log.info({ from: legacy, to: targets[legacy] }, "renamed a legacy PocketBase collection into the default namespace");
    }
    return true;
  });
  const existing = await migration.tenants.byOrganisation(migration.orgId);
  if (existing) return renamed ? existing : null;
  if (!renamed && !(await callPocketBase(instanceUrl, () => exists(pb, targets.stacks)))) return null;
  const tenant = await migration.tenants.create({
    name: "Default",
    slug: DEFAULT_TENANT_SLUG,
    zitadelOrgId: migration.orgId,
    instanceId: migration.instanceId,
  });
  log.info({ tenantId: tenant.id }, "created the default tenant for the migrated collections");
  return tenant;
}
