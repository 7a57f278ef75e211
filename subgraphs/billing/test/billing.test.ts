import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tables } from "@kombify/testkit";
import { billingSubgraph } from "@kombify/subgraph-billing";
import { Role } from "@kombify/service-core/auth";
import { createTestTenant, startTestSubgraph, type TestSubgraph, type TestTenant } from "@kombify/testkit";

const TENANT_BILLING = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Tenant { plan { tier name limits { maxStacks } } subscription { status cancelAtPeriodEnd currentPeriodEnd plan { tier } } } } }';

describe("billing subgraph", () => {
  let subgraph: TestSubgraph;
  let free: TestTenant;
  let pro: TestTenant;

  beforeAll(async () => {
    subgraph = await startTestSubgraph(billingSubgraph);
    free = await createTestTenant(subgraph.runtime);
    pro = await createTestTenant(subgraph.runtime, { plan: "PRO" });
  });
  afterAll(() => subgraph?.stop());

  it("lists the configured plans to anyone", async () => {
    const { data } = await subgraph.query("{ plans { tier name priceMonthlyCents limits { requestsPerMinute maxStacks maxSimulations maxNodesPerSimulation } features { key enabled } } }");
    expect(data.plans.map((plan: { tier: string }) => plan.tier)).toEqual(["FREE", "PRO", "ENTERPRISE"]);
    expect(data.plans[0]).toMatchObject({ name: "Free", priceMonthlyCents: 0, limits: { requestsPerMinute: 100, maxStacks: 3 } });
  });

  it("gives a tenant FREE until its mirrored Stripe subscription says otherwise", async () => {
    const asFree = await subgraph.query(TENANT_BILLING, { caller: free.member, variables: { r: [{ __typename: "Tenant", id: free.tenant.id }] } });
    expect(asFree.data._entities).toEqual([{ plan: { tier: "FREE", name: "Free", limits: { maxStacks: 3 } }, subscription: null }]);
    const asPro = await subgraph.query(TENANT_BILLING, { caller: pro.member, variables: { r: [{ __typename: "Tenant", id: pro.tenant.id }] } });
    expect(asPro.data._entities[0]).toMatchObject({ plan: { tier: "PRO" }, subscription: { status: "active", cancelAtPeriodEnd: false, plan: { tier: "PRO" } } });
  });

  it("falls back to FREE when the subscription is canceled", async () => {
    const lapsed = await createTestTenant(subgraph.runtime);
    await subgraph.runtime.db.insert(tables.billingSubscriptions).values({ tenantId: lapsed.tenant.id, status: "canceled", planTier: "ENTERPRISE" });
    const { data } = await subgraph.query(TENANT_BILLING, { caller: lapsed.member, variables: { r: [{ __typename: "Tenant", id: lapsed.tenant.id }] } });
    expect(data._entities[0]).toMatchObject({ plan: { tier: "FREE" }, subscription: { status: "canceled", plan: { tier: "ENTERPRISE" } } });
  });

  it("does not reveal another tenant's billing", async () => {
    const { errors } = await subgraph.query(TENANT_BILLING, { caller: free.member, variables: { r: [{ __typename: "Tenant", id: pro.tenant.id }] } });
    expect(errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  });

  it("says checkout and the portal are unavailable without Stripe, and that FREE needs none", async () => {
    const owner = free.as([Role.TENANT_OWNER]);
    const pro = await subgraph.query("mutation { startCheckout(tier: PRO) { url } }", { caller: owner });
    expect(pro.errors?.[0]?.extensions?.code).toBe("UNAVAILABLE");
    expect(pro.errors?.[0]?.message).toContain("STRIPE_SECRET_KEY");
    const portal = await subgraph.query("mutation { openBillingPortal { url } }", { caller: free.as([Role.TENANT_ADMIN]) });
    expect(portal.errors?.[0]?.extensions?.code).toBe("UNAVAILABLE");
    expect(portal.errors?.[0]?.message).toContain("STRIPE_SECRET_KEY");
    const freeTier = await subgraph.query("mutation { startCheckout(tier: FREE) { url } }", { caller: owner });
    expect(freeTier.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "tier" });
    const anonymous = await subgraph.query("mutation { openBillingPortal { url } }");
    expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("lets only owners and admins open checkout or the portal", async () => {
    for (const operation of ["mutation { startCheckout(tier: PRO) { url } }", "mutation { openBillingPortal { url } }"]) {
      const member = await subgraph.query(operation, { caller: free.member });
      expect(member.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    }
  });

  it("answers the Stripe webhook 503 without STRIPE_WEBHOOK_SECRET, naming it", async () => {
    const response = await fetch(`${subgraph.url}/webhooks/stripe`, { method: "POST", headers: { "stripe-signature": "t=1,v1=x" }, body: "{}" });
    expect(response.status).toBe(503);
    expect(await response.text()).toContain("STRIPE_WEBHOOK_SECRET");
  });
});
