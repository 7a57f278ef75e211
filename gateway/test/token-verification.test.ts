import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tables } from "@kombify/testkit";
import { startTestSupergraph, uniqueSuffix, type TestSupergraph } from "@kombify/testkit";

describe("token verification over time: key rotation, issuer outages, tenant changes", () => {
  let graph: TestSupergraph;

  beforeAll(async () => {
    graph = await startTestSupergraph({ gatewayEnv: { OIDC_JWKS_REFRESH_COOLDOWN_MS: "200", TENANT_CACHE_TTL_MS: "600000" } });
  });
  afterAll(() => graph?.stop());

  it("accepts a token signed by a newly published key without a restart", async () => {
    const before = await graph.issuer.mint({ sub: `u-${uniqueSuffix()}` });
    expect((await graph.graphql("{ plans { tier } }", { token: before })).status).toBe(200);
    await graph.issuer.rotateKey();
    await new Promise((resolve) => setTimeout(resolve, 250));
    const rotated = await graph.issuer.mint({ sub: `u-${uniqueSuffix()}` });
    const response = await graph.graphql("{ me { id } }", { token: rotated });
    expect(response.errors).toBeUndefined();
  });

  it("sees a tenant's plan change at once, though tenants are cached for ten minutes", async () => {
    const orgId = `org-${uniqueSuffix()}`;
    const token = await graph.issuer.mint({ sub: `u-${uniqueSuffix()}`, orgId, roles: ["tenant:owner"] });
    const created = await graph.graphql(`mutation { createTenant(name: "Upgrader", slug: "up-${uniqueSuffix()}") { id } }`, { token });
    const entitled = async () => (await graph.graphql('{ stackKit(id: "dev-platform") { entitled } }', { token })).data.stackKit.entitled;
    expect(await entitled()).toBe(false);
    await graph.subgraphs.billing.runtime.db.insert(tables.billingSubscriptions).values({ tenantId: created.data.createTenant.id, status: "active", planTier: "PRO" });
    await expect.poll(entitled, { timeout: 3000, interval: 50 }).toBe(true);
  });

  it("keeps verifying with the cached keys while the issuer is down", async () => {
    const token = await graph.issuer.mint({ sub: `u-${uniqueSuffix()}` });
    expect((await graph.graphql("{ me { id } }", { token })).errors).toBeUndefined();
    await graph.issuer.stop();
    const later = await graph.issuer.mint({ sub: `u-${uniqueSuffix()}` });
    const response = await graph.graphql("{ me { id } }", { token: later });
    expect(response.status).toBe(200);
    expect(response.errors).toBeUndefined();
  });
});
