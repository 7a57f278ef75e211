import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Role } from "@kombify/service-core/auth";
import { billingSubgraph } from "@kombify/subgraph-billing";
import { createTestTenant, startStripeStandIn, startTestSubgraph, stripeError, type StripeStandIn, type TestSubgraph } from "@kombify/testkit";
import { deliver, PRICES, subscriptionEvent, WEBHOOK_SECRET, nowSeconds } from "@kombify/testkit";

const START_CHECKOUT = "mutation($tier: PlanTier!) { startCheckout(tier: $tier) { url expiresAt } }";
const OPEN_PORTAL = "mutation { openBillingPortal { url expiresAt } }";

describe("Stripe Checkout and the billing portal, against a local Stripe stand-in", () => {
  let stripe: StripeStandIn;
  let subgraph: TestSubgraph;

  beforeAll(async () => {
    stripe = await startStripeStandIn({ latencyMs: 100 });
    subgraph = await startTestSubgraph(billingSubgraph, {
      env: {
        STRIPE_SECRET_KEY: stripe.secretKey,
        STRIPE_API_URL: stripe.url,
        STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
        STRIPE_PRICE_PRO: PRICES.PRO,
        BILLING_CHECKOUT_SUCCESS_URL: "https://app.kombify.test/billing?checkout=success",
        BILLING_PORTAL_RETURN_URL: "https://app.kombify.test/billing",
      },
    });
  });
  afterAll(async () => {
    await subgraph?.stop();
    await stripe?.stop();
  });

  const customerOf = async (tenantId: string): Promise<string> =>
    (await subgraph.runtime.database.sql`select stripe_customer_id from billing.stripe_customers where tenant_id = ${tenantId}`)[0]!.stripe_customer_id;

  it("makes the tenant's one Stripe customer once under 10 concurrent checkouts, and opens each in subscription mode for it", async () => {
    const { tenant, as } = await createTestTenant(subgraph.runtime);
    const owner = as([Role.TENANT_OWNER]);
    const answers = await Promise.all(Array.from({ length: 10 }, () => subgraph.query(START_CHECKOUT, { caller: owner, variables: { tier: "PRO" } })));
    for (const answer of answers) {
      expect(answer.errors).toBeUndefined();
      expect(answer.data.startCheckout.url).toMatch(/^https:\/\/checkout\.stripe\.test\/c\/pay\/cs_test_/);
      expect(new Date(answer.data.startCheckout.expiresAt).getTime()).toBeGreaterThan(Date.now());
    }

    const customers = stripe.requests("/v1/customers").filter((request) => request.params["metadata[tenant_id]"] === tenant.id);
    expect(customers).toHaveLength(1);
    expect(customers[0]!.params).toMatchObject({ name: tenant.slug, "metadata[tenant_slug]": tenant.slug });
    expect(customers[0]!.headers["idempotency-key"]).toBe(`kombify-tenant-customer-${tenant.id}`);
    expect(customers[0]!.headers.authorization).toBe(`Bearer ${stripe.secretKey}`);
    const customer = await customerOf(tenant.id);

    const sessions = stripe.requests("/v1/checkout/sessions").filter((request) => request.params.client_reference_id === tenant.id);
    expect(sessions).toHaveLength(10);
    for (const session of sessions) {
      expect(session.method).toBe("POST");
      expect(session.params).toEqual({
        mode: "subscription",
        customer,
        "line_items[0][price]": PRICES.PRO,
        "line_items[0][quantity]": "1",
        client_reference_id: tenant.id,
        "metadata[tenant_id]": tenant.id,
        "metadata[tier]": "PRO",
        "subscription_data[metadata][tenant_id]": tenant.id,
        success_url: "https://app.kombify.test/billing?checkout=success",
        cancel_url: "http://localhost:4010/?checkout=cancelled",
      });
    }
  });

  it("opens the Customer Portal for the tenant's customer, for admins too", async () => {
    const { tenant, as } = await createTestTenant(subgraph.runtime);
    const admin = as([Role.TENANT_ADMIN]);
    const before = await subgraph.query(OPEN_PORTAL, { caller: admin });
    expect(before.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    expect(before.errors?.[0]?.message).toContain("startCheckout");

    expect((await subgraph.query(START_CHECKOUT, { caller: admin, variables: { tier: "PRO" } })).errors).toBeUndefined();
    const portal = await subgraph.query(OPEN_PORTAL, { caller: admin });
    expect(portal.errors).toBeUndefined();
    expect(portal.data.openBillingPortal).toEqual({ url: expect.stringMatching(/^https:\/\/billing\.stripe\.test\/p\/session\/bps_/), expiresAt: null });
    const customer = await customerOf(tenant.id);
    expect(stripe.requests("/v1/billing_portal/sessions").at(-1)!.params).toEqual({ customer, return_url: "https://app.kombify.test/billing" });
  });

  it("refuses a second subscription, members, FREE, and a plan with no price configured", async () => {
    const { tenant, as, member } = await createTestTenant(subgraph.runtime);
    const owner = as([Role.TENANT_OWNER]);
    expect((await subgraph.query(START_CHECKOUT, { caller: member, variables: { tier: "PRO" } })).errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect((await subgraph.query(START_CHECKOUT, { caller: owner, variables: { tier: "FREE" } })).errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "tier" });
    const enterprise = await subgraph.query(START_CHECKOUT, { caller: owner, variables: { tier: "ENTERPRISE" } });
    expect(enterprise.errors?.[0]?.extensions?.code).toBe("UNAVAILABLE");
    expect(enterprise.errors?.[0]?.message).toContain("STRIPE_PRICE_ENTERPRISE");

    expect((await subgraph.query(START_CHECKOUT, { caller: owner, variables: { tier: "PRO" } })).errors).toBeUndefined();
    const customer = await customerOf(tenant.id);
    const subscribed = await deliver(subgraph.url, subscriptionEvent({ id: `sub_co_${tenant.id.slice(0, 8)}`, customer, tenantId: tenant.id, status: "active", price: PRICES.PRO }, nowSeconds()));
    // Found by the customer made at checkout.
    expect(subscribed.body.outcome).toBe("applied");
    const again = await subgraph.query(START_CHECKOUT, { caller: owner, variables: { tier: "PRO" } });
    expect(again.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    expect(again.errors?.[0]?.message).toContain("openBillingPortal");
  });

  it("refuses a second subscription to a tenant whose live one an earlier release recorded in the mirror alone", async () => {
    // As an installation upgraded from the release before Stripe's subscriptions were kept one by one leaves it.
    const { as } = await createTestTenant(subgraph.runtime, { plan: "PRO" });
    const again = await subgraph.query(START_CHECKOUT, { caller: as([Role.TENANT_OWNER]), variables: { tier: "PRO" } });
    expect(again.errors?.[0]?.extensions?.code).toBe("CONFLICT");
  });

  it("answers Stripe's refusals as BAD_USER_INPUT or UNAVAILABLE, never INTERNAL", async () => {
    const { as } = await createTestTenant(subgraph.runtime);
    const owner = as([Role.TENANT_OWNER]);
    stripe.answerNext("/v1/checkout/sessions", { status: 400, body: stripeError("invalid_request_error", "No such price: 'price_kombify_pro'", { param: "line_items[0][price]" }) });
    const refused = await subgraph.query(START_CHECKOUT, { caller: owner, variables: { tier: "PRO" } });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "tier" });

    // Stripe failing twice in a row (the SDK retries once): UNAVAILABLE.
    for (let i = 0; i < 2; i++) stripe.answerNext("/v1/checkout/sessions", { status: 500, body: stripeError("api_error", "Something went wrong on Stripe's end.") });
    const down = await subgraph.query(START_CHECKOUT, { caller: owner, variables: { tier: "PRO" } });
    expect(down.errors?.[0]?.extensions?.code).toBe("UNAVAILABLE");

    stripe.answerNext("/v1/billing_portal/sessions", { status: 400, body: stripeError("invalid_request_error", "No configuration provided and your live mode default configuration has not been created.") });
    const portal = await subgraph.query(OPEN_PORTAL, { caller: owner });
    expect(portal.errors?.[0]?.extensions?.code).toBe("UNAVAILABLE");

    // A key Stripe refuses: a misconfiguration, said as UNAVAILABLE.
    const wrongKey = await startTestSubgraph(billingSubgraph, { env: { STRIPE_SECRET_KEY: "sk_test_not_the_stand_ins", STRIPE_API_URL: stripe.url, STRIPE_PRICE_PRO: PRICES.PRO } });
    try {
      const { as: asOther } = await createTestTenant(wrongKey.runtime);
      const misconfigured = await wrongKey.query(START_CHECKOUT, { caller: asOther([Role.TENANT_OWNER]), variables: { tier: "PRO" } });
      expect(misconfigured.errors?.[0]?.extensions?.code).toBe("UNAVAILABLE");
      expect(misconfigured.errors?.[0]?.message).toContain("misconfigured");
    } finally {
      await wrongKey.stop();
    }
  });
});
