import { eq } from "drizzle-orm";
import { callPocketBase, FEATURE_FLAGS_COLLECTION, isHomelabMoving, namespaceCollections, type NamespaceResolver, type TenantNamespace } from "@kombify/homelab-store";
import { errors } from "@kombify/service-core/errors";
import type { Db } from "@kombify/service-core/database";
import type { Entitlements } from "@kombify/plan-catalog";
import { featureFlagOverrides, type TenantRow } from "../db/schema.js";
import { tenantById } from "../published/tenant-directory.js";
import type { FeatureFlag } from "./feature-flag.type.js";

/** A tenant's flags: its plan's features, with per-tenant overrides on top; synced into PocketBase. */
export class FeatureFlags {
  constructor(
    private readonly db: Db,
    private readonly entitlements: Entitlements,
    private readonly namespaces: NamespaceResolver,
  ) {}

  async of(tenantId: string): Promise<FeatureFlag[]> {
    const entry = await tenantById(this.db, tenantId);
    if (!entry) throw errors.notFound("Tenant", tenantId);
    const planFeatures = this.entitlements.features(entry.tenant.plan);
    const overrides = await this.db
      .select()
      .from(featureFlagOverrides)
      .where(eq(featureFlagOverrides.tenantId, tenantId));
    const flags = new Map<string, FeatureFlag>(
      Object.entries(planFeatures).map(([key, enabled]) => [key, { key, enabled, source: "PLAN" }]),
    );
    for (const override of overrides) flags.set(override.key, { key: override.key, enabled: override.enabled, source: "OVERRIDE" });
    return [...flags.values()].sort((a, b) => a.key.localeCompare(b.key));
  }

  async override(tenant: TenantRow, key: string, enabled: boolean): Promise<FeatureFlag> {
    await this.db
      .insert(featureFlagOverrides)
      .values({ tenantId: tenant.id, key, enabled })
      .onConflictDoUpdate({
        target: [featureFlagOverrides.tenantId, featureFlagOverrides.key],
        set: { enabled, updatedAt: new Date() },
      });
    await this.syncToNamespace(tenant);
    return { key, enabled, source: "OVERRIDE" };
  }

  /** Writes every flag of the tenant into the `_feature_flags` collection of its PocketBase instance. */
  async syncToNamespace(tenant: TenantRow): Promise<void> {
    const flags = await this.of(tenant.id);
    const namespace = await this.namespaces.resolve(tenant);
    const owner = namespaceCollections(tenant.slug).users;
    const collection = namespace.pb.collection(FEATURE_FLAGS_COLLECTION);
    await callPocketBase(namespace.instanceUrl, async () => {
      const existing = await collection.getFullList({ filter: namespace.pb.filter("namespace = {:ns}", { ns: owner }) });
      for (const flag of flags) {
        const record = existing.find((row) => row.key === flag.key);
        if (record) await collection.update(record.id, { enabled: flag.enabled });
        else {
          // Two syncs of one tenant at once (concurrent first launches) race to create a flag: the loser updates it.
          await collection.create({ namespace: owner, key: flag.key, enabled: flag.enabled }).catch(async (error) => {
            const winner = await collection.getFirstListItem(namespace.pb.filter("namespace = {:ns} && key = {:key}", { ns: owner, key: flag.key })).catch(() => null);
            if (!winner) throw error;
            await collection.update(winner.id, { enabled: flag.enabled });
          });
        }
      }
    });
    await this.takeBackIfFenced(namespace, owner);
  }

  /**
   * A move may have fenced the namespace off between our resolve and our writes: then those rows may have landed
   * on the old instance after its copy, and are taken back (the mover syncs the flags again on the new instance
   * once it switches). Checked after writing, so a write either preceded the fence (and was copied) or is undone.
   */
  private async takeBackIfFenced(namespace: TenantNamespace, owner: string): Promise<void> {
    try {
      await callPocketBase(namespace.instanceUrl, () => namespace.pb.collection(owner).getList(1, 1, { fields: "id", skipTotal: true }));
    } catch (error) {
      if (!isHomelabMoving(error)) throw error;
      const collection = namespace.pb.collection(FEATURE_FLAGS_COLLECTION);
      const written = await collection.getFullList({ filter: namespace.pb.filter("namespace = {:ns}", { ns: owner }), fields: "id" }).catch(() => []);
      for (const row of written) await collection.delete(row.id).catch(() => {});
      throw error;
    }
  }

}
