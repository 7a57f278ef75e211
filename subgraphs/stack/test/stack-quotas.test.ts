import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { namespaceCollections } from "@kombify/homelab-store";
import { tables } from "@kombify/testkit";
import { stackSubgraph } from "@kombify/subgraph-stack";
import { createTestTenant, startTestSubgraph, type TestSubgraph } from "@kombify/testkit";

const CREATE = `mutation($name: String!) { createStack(name: $name, stackKitId: "base-homelab", nodes: [{ hostname: "n1", address: "10.0.0.1" }]) { id } }`;
const ADD_NODE = `mutation($stackId: ID!, $hostname: String!) { addNode(stackId: $stackId, node: { hostname: $hostname, address: "10.0.0.9" }) { id } }`;

const codes = (answers: { errors?: { extensions?: Record<string, unknown> }[] }[]) =>
  answers.map((answer) => String(answer.errors?.[0]?.extensions?.code ?? "OK")).sort();

/** Quotas hold under concurrency: the count and the create are one step per tenant, on every replica. */
describe("stack quotas under concurrent creates", () => {
  let subgraph: TestSubgraph;
  let replica: TestSubgraph;

  beforeAll(async () => {
    subgraph = await startTestSubgraph(stackSubgraph, { env: { JOB_RUNNER_ENABLED: "false" } });
    replica = await startTestSubgraph(stackSubgraph, { env: { JOB_RUNNER_ENABLED: "false" } });
  });
  afterAll(async () => {
    await subgraph?.stop();
    await replica?.stop();
  });

  it("creates exactly the FREE plan's 3 stacks out of 20 concurrent creates across two replicas", async () => {
    const tenant = await createTestTenant(subgraph.runtime);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? replica : subgraph).query(CREATE, { caller: tenant.member, variables: { name: `s${i}` } })),
    );
    expect(codes(answers)).toEqual([...Array(3).fill("OK"), ...Array(17).fill("QUOTA_EXCEEDED")].sort());
    const pb = await subgraph.pocketbase.forInstance(subgraph.pocketbaseUrl);
    expect(await pb.collection(namespaceCollections(tenant.tenant.slug).stacks).getFullList()).toHaveLength(3);
    expect(answers.find((answer) => answer.errors)?.errors?.[0]?.extensions?.limit).toBe(3);
  });

  it("ends three concurrent creates of one name in one stack and two CONFLICTs, never INTERNAL", async () => {
    const tenant = await createTestTenant(subgraph.runtime, { plan: "PRO" });
    const answers = await Promise.all([subgraph, replica, subgraph].map((target) => target.query(CREATE, { caller: tenant.member, variables: { name: "same" } })));
    expect(codes(answers)).toEqual(["CONFLICT", "CONFLICT", "OK"]);
  });

  it("adds one node of a hostname out of ten concurrent adds, and never more than a stack's 50 nodes", async () => {
    const tenant = await createTestTenant(subgraph.runtime, { plan: "PRO" });
    const stackId = (await subgraph.query(CREATE, { caller: tenant.member, variables: { name: "nodes" } })).data.createStack.id;
    const same = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? replica : subgraph).query(ADD_NODE, { caller: tenant.member, variables: { stackId, hostname: "twin" } })));
    expect(codes(same)).toEqual(["OK", ...Array(9).fill("BAD_USER_INPUT")].sort());
    for (let i = 0; i < 44; i++) await subgraph.query(ADD_NODE, { caller: tenant.member, variables: { stackId, hostname: `fill-${i}` } });
    const racing = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? replica : subgraph).query(ADD_NODE, { caller: tenant.member, variables: { stackId, hostname: `race-${i}` } })));
    expect(codes(racing).filter((code) => code === "OK")).toHaveLength(4);
    const nodes = await subgraph.query(`{ stack(id: "${stackId}") { nodes { hostname } } }`, { caller: tenant.member });
    expect(nodes.data.stack.nodes).toHaveLength(50);
  });

  it("serialises concurrent creates onto a simulation without exhausting the connection pool (they once deadlocked it)", async () => {
    const tenant = await createTestTenant(subgraph.runtime);
    const [simulation] = await subgraph.runtime.db.insert(tables.simulations).values({ tenantId: tenant.tenant.id, name: "sim", status: "RUNNING", image: "kombify/node:test" }).returning();
    await subgraph.runtime.db.insert(tables.simulationNodes).values({ simulationId: simulation!.id, tenantId: tenant.tenant.id, name: "node-1", image: "kombify/node:test", status: "RUNNING" });
    const onSimulation = `mutation($name: String!, $sim: ID!) { createStack(name: $name, stackKitId: "base-homelab", nodes: [], simulationId: $sim) { id } }`;
    const answers = await Promise.all(Array.from({ length: 14 }, (_, i) => subgraph.query(onSimulation, { caller: tenant.member, variables: { name: `onsim${i}`, sim: simulation!.id } })));
    expect(codes(answers)).toEqual([...Array(3).fill("OK"), ...Array(11).fill("QUOTA_EXCEEDED")].sort());
    const bystander = await createTestTenant(subgraph.runtime);
    const after = await subgraph.query(CREATE, { caller: bystander.member, variables: { name: "after" } });
    expect(after.errors).toBeUndefined();
  });

  it("keeps another tenant's writes quick while one tenant floods its own quota, and turns the flood's excess away", async () => {
    const flooder = await createTestTenant(subgraph.runtime);
    for (let i = 0; i < 3; i++) await subgraph.query(CREATE, { caller: flooder.member, variables: { name: `full${i}` } });
    const bystander = await createTestTenant(subgraph.runtime);
    const started = performance.now();
    await subgraph.query(CREATE, { caller: bystander.member, variables: { name: "quiet" } });
    const unloaded = performance.now() - started;
    const requests = Array.from({ length: 200 }, (_, i) => subgraph.query(CREATE, { caller: flooder.member, variables: { name: `flood${i}` } }));
    const flood = Promise.all(requests);
    // Once the flood is being answered, the rest of it waits for the tenant's lock: measured from there.
    await Promise.race(requests);
    const during = performance.now();
    const answer = await subgraph.query(CREATE, { caller: bystander.member, variables: { name: "during" } });
    const loaded = performance.now() - during;
    const flooded = codes(await flood);
    expect(answer.errors).toBeUndefined();
    expect(flooded.filter((code) => code === "OK")).toEqual([]);
    expect(flooded).toContain("RATE_LIMITED");
    expect(new Set(flooded)).toEqual(new Set(["QUOTA_EXCEEDED", "RATE_LIMITED"]));
    // Relative to this run's own unloaded write: before, the flood held every pooled connection (30 ms became 2.7 s).
    expect(loaded).toBeLessThan(unloaded * 10 + 500);
  });
});
