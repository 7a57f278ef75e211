import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { namespaceCollections } from "@kombify/service-core";
import { createStackSubgraph } from "@kombify/subgraph-stack";
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
    subgraph = await startTestSubgraph("stack", createStackSubgraph, { env: { JOB_RUNNER_ENABLED: "false" } });
    replica = await startTestSubgraph("stack", createStackSubgraph, { env: { JOB_RUNNER_ENABLED: "false" } });
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
    const pb = await subgraph.runtime.pocketbase.forInstance(subgraph.runtime.settings.POCKETBASE_URL);
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
});
