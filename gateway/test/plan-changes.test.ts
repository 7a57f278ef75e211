import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FEATURE_FLAGS_COLLECTION, namespaceCollections } from "@kombify/homelab-store";
import { deliver, nowSeconds, postGraphQL, PRICES, startTestSupergraph, subscriptionEvent, uniqueSuffix, WEBHOOK_SECRET, wsClient, type TestSupergraph } from "@kombify/testkit";

const CREATE = `mutation($name: String!) { createStack(name: $name, stackKitId: "base-homelab", nodes: [{ hostname: "n1", address: "10.0.0.1" }]) { id } }`;

/**
 * A plan change (a Stripe webhook to the billing subgraph) reaches every enforcement
 * point within seconds through change notifications: the quotas, StackKit tiers, and the flags in the tenant's
 * PocketBase namespace. Tenants are cached for ten minutes here, so nothing of this is cache expiry.
 */
describe("a plan change, felt everywhere", () => {
  let graph: TestSupergraph;

  beforeAll(async () => {
    graph = await startTestSupergraph({
      gatewayEnv: { TENANT_CACHE_TTL_MS: "600000" },
      subgraphEnv: { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, STRIPE_PRICE_PRO: PRICES.PRO, STRIPE_PRICE_ENTERPRISE: PRICES.ENTERPRISE },
    });
  });
  afterAll(() => graph?.stop());

  it("raises the quotas, entitlements and flags of FREE → PRO, and a cancellation lowers them again, deleting nothing", async () => {
    const orgId = `org-${uniqueSuffix()}`;
    const token = await graph.issuer.mint({ sub: `u-${uniqueSuffix()}`, orgId, roles: ["tenant:owner"] });
    const slug = `plan-${uniqueSuffix()}`;
    const tenantId = (await graph.graphql(`mutation { createTenant(name: "Planner", slug: "${slug}") { id } }`, { token })).data.createTenant.id as string;
    const create = (name: string) => graph.graphql(CREATE, { token, variables: { name } });
    const entitled = async () => (await graph.graphql('{ stackKit(id: "dev-platform") { entitled } }', { token })).data.stackKit.entitled;
    // 10 stacks (assumed) × 100 jobs × (1 + 50 log lines) + the stacks themselves: beyond FREE's ceiling, within PRO's.
    const costliest = async () => (await graph.graphql("{ stacks { jobs(last: 100) { logs(tail: 50) } } }", { token })).errors?.[0]?.extensions;
    const pb = await graph.subgraphs.tenant.pocketbase.forInstance(graph.subgraphs.tenant.pocketbaseUrl);
    const customDomains = async () =>
      (await pb.collection(FEATURE_FLAGS_COLLECTION).getFirstListItem(pb.filter("namespace = {:ns} && key = 'custom-domains'", { ns: namespaceCollections(slug).users }))).enabled;

    // A socket opened while FREE: its operations after the upgrade are weighed against PRO's ceiling.
    const client = wsClient(`${graph.url}/graphql`, { authorization: `Bearer ${token}` });
    const costliestOverSocket = () =>
      new Promise<unknown>((resolve) => {
        client.subscribe({ query: "{ stacks { jobs(last: 100) { logs(tail: 50) } } }" }, { next: () => {}, error: (errors) => resolve((errors as { extensions?: unknown }[])[0]?.extensions), complete: () => resolve(undefined) });
      });
    expect(await costliestOverSocket()).toMatchObject({ code: "COST_LIMIT_EXCEEDED", limit: 50_000 });
    for (const name of ["a", "b", "c"]) expect((await create(name)).errors).toBeUndefined();
    const refused = await create("d");
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: "QUOTA_EXCEEDED", limit: 3 });
    expect(await entitled()).toBe(false);
    expect(await costliest()).toMatchObject({ code: "COST_LIMIT_EXCEEDED", cost: 51_010, limit: 50_000 });
    expect(await customDomains()).toBe(false);

    // Stripe says so: a signed webhook to the billing subgraph, as Stripe sends it after a checkout.
    const subscription = { id: `sub_${uniqueSuffix()}`, customer: `cus_${uniqueSuffix()}`, tenantId, status: "active" as const, price: PRICES.PRO };
    const started = nowSeconds();
    expect((await deliver(graph.subgraphs.billing.url, subscriptionEvent(subscription, started, "customer.subscription.created"))).status).toBe(200);
    await expect.poll(entitled, { timeout: 5000, interval: 50 }).toBe(true);
    expect((await create("d")).errors).toBeUndefined();
    expect(await costliest()).toBeUndefined();
    expect(await costliestOverSocket()).toBeUndefined();
    await client.dispose();
    await expect.poll(customDomains, { timeout: 5000, interval: 100 }).toBe(true);

    expect((await deliver(graph.subgraphs.billing.url, subscriptionEvent({ ...subscription, status: "canceled" }, started + 1, "customer.subscription.deleted"))).status).toBe(200);
    await expect.poll(entitled, { timeout: 5000, interval: 50 }).toBe(false);
    const afterCancel = await create("e");
    expect(afterCancel.errors?.[0]?.extensions).toMatchObject({ code: "QUOTA_EXCEEDED", limit: 3 });
    await expect.poll(customDomains, { timeout: 5000, interval: 100 }).toBe(false);
    // Nothing was deleted: the four stacks made while PRO are all still there.
    expect(await costliest()).toMatchObject({ code: "COST_LIMIT_EXCEEDED", cost: 51_010, limit: 50_000 });
    const stacks = await graph.graphql("{ myTenant { stacks { name } } }", { token });
    expect(stacks.data.myTenant.stacks.map((stack: { name: string }) => stack.name).sort()).toEqual(["a", "b", "c", "d"]);
  });
});

describe("an operation's cost, when asked", () => {
  let graph: TestSupergraph;

  beforeAll(async () => {
    graph = await startTestSupergraph();
  });
  afterAll(() => graph?.stop());

  it("answers extensions.cost (the estimate and the caller's ceiling) for a request that asks, over HTTP and the socket", async () => {
    const token = await graph.issuer.mint({ sub: `u-${uniqueSuffix()}`, orgId: `org-${uniqueSuffix()}`, roles: ["tenant:owner"] });
    await graph.graphql(`mutation { createTenant(name: "Costs", slug: "cost-${uniqueSuffix()}") { id } }`, { token });
    const asked = await postGraphQL<{ stacks: unknown[] }>(`${graph.url}/graphql`, { query: "{ stacks { id } }", extensions: { cost: true } }, { authorization: `Bearer ${token}` });
    expect(asked.status).toBe(200);
    expect((asked as unknown as { extensions?: unknown }).extensions ?? (await rawExtensions(graph.url, token))).toEqual({ cost: { estimated: 20, limit: 50_000 } });
    const client = wsClient(`${graph.url}/graphql`, { authorization: `Bearer ${token}` });
    try {
      const overSocket = await new Promise<Record<string, unknown> | undefined>((resolve, reject) => {
        let extensions: Record<string, unknown> | undefined;
        client.subscribe({ query: "{ stacks { id } }", extensions: { cost: true } }, { next: (result) => (extensions = result.extensions as Record<string, unknown> | undefined), error: reject, complete: () => resolve(extensions) });
      });
      expect(overSocket).toEqual({ cost: { estimated: 20, limit: 50_000 } });
    } finally {
      await client.dispose();
    }
    // A variable's default is what execution will use, so it is what is weighed: 10 × 100 × (1 + 10,000) values.
    const defaulted = await rawBody(graph.url, token, { query: "query($t: Int = 10000) { stacks { jobs(last: 100) { logs(tail: $t) } } }" });
    expect(defaulted).toMatchObject({ errors: [{ extensions: { code: "COST_LIMIT_EXCEEDED", cost: 10_001_010, limit: 50_000 } }] });
    const unasked = await rawBody(graph.url, token, { query: "{ stacks { id } }" });
    expect(unasked.extensions).toBeUndefined();
  });
});

async function rawBody(url: string, token: string, body: unknown): Promise<{ extensions?: unknown; errors?: unknown }> {
  const response = await fetch(`${url}/graphql`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
  return (await response.json()) as { extensions?: unknown; errors?: unknown };
}

async function rawExtensions(url: string, token: string): Promise<unknown> {
  return (await rawBody(url, token, { query: "{ stacks { id } }", extensions: { cost: true } })).extensions;
}
