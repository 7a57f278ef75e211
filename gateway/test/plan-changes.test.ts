import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { FEATURE_FLAGS_COLLECTION, namespaceCollections } from "@kombify/homelab-store";
import { startTestSupergraph, tables, uniqueSuffix, type TestSupergraph } from "@kombify/testkit";

const CREATE = `mutation($name: String!) { createStack(name: $name, stackKitId: "base-homelab", nodes: [{ hostname: "n1", address: "10.0.0.1" }]) { id } }`;

/**
 * A plan change (as billing's mirror records it, the way a Stripe webhook leaves it) reaches every enforcement
 * point within seconds through change notifications: the quotas, StackKit tiers, and the flags in the tenant's
 * PocketBase namespace. Tenants are cached for ten minutes here, so nothing of this is cache expiry.
 */
describe("a plan change, felt everywhere", () => {
  let graph: TestSupergraph;

  beforeAll(async () => {
    graph = await startTestSupergraph({ gatewayEnv: { TENANT_CACHE_TTL_MS: "600000" } });
  });
  afterAll(() => graph?.stop());

  it("raises the quotas, entitlements and flags of FREE → PRO, and a cancellation lowers them again, deleting nothing", async () => {
    const orgId = `org-${uniqueSuffix()}`;
    const token = await graph.issuer.mint({ sub: `u-${uniqueSuffix()}`, orgId, roles: ["tenant:owner"] });
    const slug = `plan-${uniqueSuffix()}`;
    const tenantId = (await graph.graphql(`mutation { createTenant(name: "Planner", slug: "${slug}") { id } }`, { token })).data.createTenant.id as string;
    const create = (name: string) => graph.graphql(CREATE, { token, variables: { name } });
    const entitled = async () => (await graph.graphql('{ stackKit(id: "dev-platform") { entitled } }', { token })).data.stackKit.entitled;
    const pb = await graph.subgraphs.tenant.pocketbase.forInstance(graph.subgraphs.tenant.pocketbaseUrl);
    const customDomains = async () =>
      (await pb.collection(FEATURE_FLAGS_COLLECTION).getFirstListItem(pb.filter("namespace = {:ns} && key = 'custom-domains'", { ns: namespaceCollections(slug).users }))).enabled;

    for (const name of ["a", "b", "c"]) expect((await create(name)).errors).toBeUndefined();
    const refused = await create("d");
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: "QUOTA_EXCEEDED", limit: 3 });
    expect(await entitled()).toBe(false);
    expect(await customDomains()).toBe(false);

    const billing = graph.subgraphs.billing.runtime.db;
    await billing.insert(tables.billingSubscriptions).values({ tenantId, status: "active", planTier: "PRO" });
    await expect.poll(entitled, { timeout: 5000, interval: 50 }).toBe(true);
    expect((await create("d")).errors).toBeUndefined();
    await expect.poll(customDomains, { timeout: 5000, interval: 100 }).toBe(true);

    await billing.update(tables.billingSubscriptions).set({ status: "canceled" }).where(eq(tables.billingSubscriptions.tenantId, tenantId));
    await expect.poll(entitled, { timeout: 5000, interval: 50 }).toBe(false);
    const afterCancel = await create("e");
    expect(afterCancel.errors?.[0]?.extensions).toMatchObject({ code: "QUOTA_EXCEEDED", limit: 3 });
    await expect.poll(customDomains, { timeout: 5000, interval: 100 }).toBe(false);
    // Nothing was deleted: the four stacks made while PRO are all still there.
    const stacks = await graph.graphql("{ myTenant { stacks { name } } }", { token });
    expect(stacks.data.myTenant.stacks.map((stack: { name: string }) => stack.name).sort()).toEqual(["a", "b", "c", "d"]);
  });
});
