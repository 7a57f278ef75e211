import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { namespaceCollections } from "@kombify/homelab-store";
import { InstanceDirectory, TenantDirectory } from "@kombify/subgraph-tenant";
import { collect, startCountingProxy, startTestSupergraph, testNamespaces, uniqueSuffix, wsClient, type CountingProxy, type TestSupergraph } from "@kombify/testkit";

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/** No request may cost thousands: nested and aliased reads are batched per list and bounded before planning. */
describe("what one request may cost", () => {
  let graph: TestSupergraph;
  let proxy: CountingProxy;
  let attacker: string;
  let bystander: string;

  beforeAll(async () => {
    graph = await startTestSupergraph();
    const runtime = graph.subgraphs.tenant.runtime;
    // The attacker's tenant lives on an instance reached through a counting proxy in front of the run's PocketBase.
    proxy = await startCountingProxy(inject("pocketbaseUrl"));
    const instance = await new InstanceDirectory(runtime.db).register({
      name: `counted-${uniqueSuffix()}`,
      region: "local",
      deploymentMode: "SHARED",
      maxTenants: 5,
      pocketbaseUrl: proxy.url,
    });
    const orgId = `org-cost-${uniqueSuffix()}`;
    const tenant = await new TenantDirectory(runtime.db, testNamespaces(runtime)).create({ name: "Cost", slug: `cost-${uniqueSuffix()}`, zitadelOrgId: orgId, instanceId: instance.id });
    attacker = await graph.issuer.mint({ sub: `attacker-${uniqueSuffix()}`, orgId, roles: ["tenant:owner"] });
    const pb = await graph.subgraphs.stack.pocketbase.forInstance(inject("pocketbaseUrl"));
    for (const name of ["one", "two", "three"]) {
      const created = await graph.graphql(`mutation { createStack(name: "${name}", stackKitId: "base-homelab", nodes: [{ hostname: "n1", address: "10.0.0.1" }, { hostname: "n2", address: "10.0.0.2" }]) { id } }`, { token: attacker });
      expect(created.errors).toBeUndefined();
      for (let job = 0; job < 20; job++) {
        await pb.collection(namespaceCollections(tenant.slug).jobs).create({ stack: created.data.createStack.id, kind: "DEPLOY", status: "SUCCEEDED", progress: 1, logs: [`job ${job}`] });
      }
    }
    const bystanderOrg = `org-by-${uniqueSuffix()}`;
    bystander = await graph.issuer.mint({ sub: `bystander-${uniqueSuffix()}`, orgId: bystanderOrg, roles: ["tenant:owner"] });
    expect((await graph.graphql(`mutation { createTenant(name: "Bystander", slug: "by-${uniqueSuffix()}") { id } }`, { token: bystander })).errors).toBeUndefined();
  });
  afterAll(async () => {
    await graph?.stop();
    await proxy?.stop();
  });

  it("refuses Stack.jobs ↔ Job.stack nested three deep and more by what its answer would weigh, before any read", async () => {
    const attacks = [
      "{ stacks { name nodes { hostname } jobs { stack { jobs { stack { name jobs { id logs } } } } } } }",
      "{ stacks { jobs { stack { jobs { stack { jobs { stack { jobs { id } } } } } } } } }",
      "{ stacks { jobs(last: 70) { stack { jobs(last: 70) { stack { jobs(last: 70) { id } } } } } } }",
    ];
    for (const attack of attacks) {
      proxy.reset();
      const answer = await graph.graphql(attack, { token: attacker });
      expect(answer.status).toBe(400);
      expect(answer.errors?.[0]?.extensions).toMatchObject({ code: "COST_LIMIT_EXCEEDED", limit: 50_000 });
      expect(proxy.count()).toBe(0);
    }
  });

  it("reads nested Stack.jobs ↔ Job.stack within the cost ceiling with a handful of PocketBase requests, not thousands", async () => {
    const nested = "{ stacks { name nodes { hostname } jobs { stack { jobs(last: 5) { stack { name jobs(last: 5) { id logs(tail: 5) } } } } } } }";
    proxy.reset();
    const answer = await graph.graphql(nested, { token: attacker });
    expect(answer.errors).toBeUndefined();
    expect(answer.data.stacks).toHaveLength(3);
    expect(answer.data.stacks[0].jobs).toHaveLength(20);
    expect(answer.data.stacks[0].jobs[0].stack.jobs[0].stack.jobs).toHaveLength(5);
    // One list of stacks, then one batch per level: before batching this was about 8,800 requests.
    expect(proxy.count()).toBeLessThanOrEqual(15);
  });

  it("answers aliases of the tenant's stacks within the ceiling from one batch each, and refuses a thousand", async () => {
    const aliases = (count: number) => `{ ${Array.from({ length: count }, (_, i) => `t${i}: myTenant { stacks { id nodes { id } } plan { name } }`).join(" ")} }`;
    proxy.reset();
    const allowed = await graph.graphql(aliases(14), { token: attacker });
    expect(allowed.errors).toBeUndefined();
    expect(allowed.data.t13.stacks).toHaveLength(3);
    expect(proxy.count()).toBeLessThanOrEqual(4);
    proxy.reset();
    const refused = await graph.graphql(aliases(1000), { token: attacker });
    expect(refused.status).toBe(400);
    expect(refused.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(proxy.count()).toBe(0);
  });

  it("keeps another tenant's requests fast while the costliest allowed request runs back to back", async () => {
    const ownStacks = () => graph.graphql("{ stacks { id } }", { token: bystander });
    await ownStacks();
    const unloaded: number[] = [];
    for (let i = 0; i < 7; i++) unloaded.push(await timed(ownStacks));
    const heavy = "{ stacks { jobs(last: 70) { logs(tail: 40) stack { jobs(last: 10) { id } } } } }";
    expect((await graph.graphql(heavy, { token: attacker })).errors).toBeUndefined();
    let attacking = true;
    let attacksMade = 0;
    const attack = (async () => {
      for (; attacking; attacksMade++) await graph.graphql(heavy, { token: attacker });
    })();
    const loaded: number[] = [];
    for (let i = 0; i < 7; i++) loaded.push(await timed(ownStacks));
    attacking = false;
    await attack;
    expect(attacksMade).toBeGreaterThan(0);
    // Measured against this run's own unloaded time, not a fixed number: before, 6 ms became 3.6–8.5 s.
    expect(median(loaded)).toBeLessThan(median(unloaded) * 10 + 250);
  });

  it("plans a tenant's twenty new subscriptions a minute of the largest allowed size without stalling another tenant, and refuses more", async () => {
    const ownStacks = () => graph.graphql("{ stacks { id } }", { token: bystander });
    const unloaded: number[] = [];
    for (let i = 0; i < 7; i++) unloaded.push(await timed(ownStacks));
    const block = "id name status stackKit { id name tier services version description } nodes { id hostname address role status } jobs { id stack { id name stackKit { name } } }";
    const client = wsClient(`${graph.url}/graphql`, { authorization: `Bearer ${attacker}` });
    try {
      const storm = Array.from({ length: 30 }, (_, i) => collect(client, `subscription Distinct${i} { jobUpdated { id a: stack { ${block} } b: stack { ${block} } c: stack { ${block} } } }`));
      // A refused subscription is answered with one result carrying the error, then completed.
      const outcomeOf = (subscription: (typeof storm)[number]) =>
        subscription.done.then(() => String(subscription.events[0]?.errors?.[0]?.extensions?.code ?? "OK"), (errors) => String(errors?.[0]?.extensions?.code));
      const outcomes = storm.map(outcomeOf);
      const loaded: number[] = [];
      for (let i = 0; i < 7; i++) loaded.push(await timed(ownStacks));
      expect(Math.max(...loaded)).toBeLessThan(median(unloaded) * 20 + 500);
      expect(median(loaded)).toBeLessThan(median(unloaded) * 10 + 250);
      // The first twenty are planned and stay open; the rest are refused without planning, saying when to retry.
      for (const subscription of storm.slice(0, 20)) subscription.unsubscribe();
      expect(await Promise.all(outcomes.slice(20))).toEqual(Array(10).fill("RATE_LIMITED"));
      const again = collect(client, "subscription Distinct0 { jobUpdated { id } }");
      await again.done;
      expect(again.events[0]?.errors?.[0]?.extensions).toMatchObject({ code: "RATE_LIMITED", retryAfter: expect.any(Number) });
    } finally {
      await client.dispose();
    }
  });
});
