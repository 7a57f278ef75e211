import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { startTestSupergraph, tables, uniqueSuffix, wsClient, type TestSupergraph } from "@kombify/testkit";

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

  it("sees a plan change on a WebSocket opened before it, at the socket's next operation", async () => {
    const orgId = `org-${uniqueSuffix()}`;
    const token = await graph.issuer.mint({ sub: `u-${uniqueSuffix()}`, orgId, roles: ["tenant:owner"] });
    const created = await graph.graphql(`mutation { createTenant(name: "Socket", slug: "sock-${uniqueSuffix()}") { id } }`, { token });
    const client = wsClient(`${graph.url}/graphql`, { authorization: `Bearer ${token}` });
    try {
      const entitled = () =>
        new Promise<boolean>((resolve, reject) => {
          let value: boolean | undefined;
          client.subscribe<{ stackKit: { entitled: boolean } }>({ query: '{ stackKit(id: "dev-platform") { entitled } }' }, {
            next: (result) => (value = result.data?.stackKit.entitled),
            error: reject,
            complete: () => resolve(value!),
          });
        });
      expect(await entitled()).toBe(false);
      await graph.subgraphs.billing.runtime.db.insert(tables.billingSubscriptions).values({ tenantId: created.data.createTenant.id, status: "active", planTier: "PRO" });
      await expect.poll(entitled, { timeout: 3000, interval: 50 }).toBe(true);
      await graph.subgraphs.billing.runtime.db.update(tables.billingSubscriptions).set({ status: "canceled" }).where(eq(tables.billingSubscriptions.tenantId, created.data.createTenant.id));
      await expect.poll(entitled, { timeout: 3000, interval: 50 }).toBe(false);
    } finally {
      await client.dispose();
    }
  });

  it("answers 503 UNAVAILABLE, not a 500, while the tenant directory cannot answer (billing not migrated yet)", async () => {
    const orgId = `org-${uniqueSuffix()}`;
    const token = await graph.issuer.mint({ sub: `u-${uniqueSuffix()}`, orgId, roles: ["tenant:owner"] });
    await graph.graphql(`mutation { createTenant(name: "Early", slug: "early-${uniqueSuffix()}") { id } }`, { token });
    const other = await graph.issuer.mint({ sub: `u-${uniqueSuffix()}`, orgId: `org-${uniqueSuffix()}` });
    const db = graph.subgraphs.billing.runtime.database.sql;
    await db`alter function billing.effective_plan(uuid) rename to effective_plan_hidden`;
    try {
      // Nothing of this organisation is cached yet: its tenant was created after the gateway last looked it up.
      const response = await graph.graphql("{ myTenant { id } }", { token });
      expect(response.status).toBe(503);
      expect(response.errors?.[0]?.extensions?.code).toBe("UNAVAILABLE");
      // An organisation without a tenant is unaffected: the directory answers "none" without asking billing.
      expect((await graph.graphql("{ me { id } }", { token: other })).status).toBe(200);
    } finally {
      await db`alter function billing.effective_plan_hidden(uuid) rename to effective_plan`;
    }
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
