import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import { TEST_INSTANCE, testPocketBase } from "./test-subgraph.js";
import { billingSubscriptions } from "@kombify/subgraph-billing";
import { InstanceDirectory, TenantDirectory } from "@kombify/subgraph-tenant";
import { instanceLookup } from "@kombify/subgraph-tenant/tenant-directory";
import { NamespaceResolver } from "@kombify/homelab-store";
import type { Db } from "@kombify/service-core/database";
import type { PlanTier, Role, SignedInCaller, TenantRef } from "@kombify/service-core/auth";

export function uniqueSuffix(): string {
  return randomBytes(4).toString("hex");
}

export interface TestTenant {
  tenant: TenantRef;
  orgId: string;
  /** A tenant member of this tenant, as a verified context would describe them. */
  member: SignedInCaller;
  as(roles: Role[], userId?: string): SignedInCaller;
}

/** The namespace resolver the subgraphs build: PocketBase namespaces found through the tenant directory. */
export function testNamespaces(runtime: { db: Db }): NamespaceResolver {
  return new NamespaceResolver(instanceLookup(runtime.db), testPocketBase());
}

/**
 * Creates a tenant through the tenant subgraph's own code (row + PocketBase namespace), on the given plan (a
 * subscription row in billing's mirror, as Stripe's webhook would leave it).
 */
export async function createTestTenant(
  deps: { db: Db },
  options: { plan?: PlanTier; slug?: string } = {},
): Promise<TestTenant> {
  await new InstanceDirectory(deps.db).register({
    name: TEST_INSTANCE.name,
    region: "local",
    deploymentMode: "SHARED",
    maxTenants: TEST_INSTANCE.maxTenants,
    pocketbaseUrl: inject("pocketbaseUrl"),
  });
  const suffix = uniqueSuffix();
  const orgId = `org-${suffix}`;
  const row = await new TenantDirectory(deps.db, testNamespaces(deps)).create({
    name: `Test tenant ${suffix}`,
    slug: options.slug ?? `t-${suffix}`,
    zitadelOrgId: orgId,
  });
  const plan = options.plan ?? "FREE";
  if (plan !== "FREE") {
    await deps.db.insert(billingSubscriptions).values({ tenantId: row.id, status: "active", planTier: plan });
  }
  const tenant: TenantRef = { id: row.id, slug: row.slug, plan };
  const as = (roles: Role[], userId = `user-${suffix}`): SignedInCaller => ({
    kind: "user",
    userId,
    email: `${userId}@example.test`,
    name: `User ${suffix}`,
    orgId,
    orgName: `Org ${suffix}`,
    roles,
    tenant,
  });
  return { tenant, orgId, member: as([]), as };
}
