import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { namespaceCollections } from "@kombify/homelab-store";
import { stackSubgraph } from "@kombify/subgraph-stack";
import { createTestTenant, startTestSubgraph, type TestSubgraph, type TestTenant } from "@kombify/testkit";

const CREATE = `mutation($name: String!, $kit: ID!, $nodes: [NodeInput!]!) {
  createStack(name: $name, stackKitId: $kit, nodes: $nodes) { id name status stackKit { id } nodes { hostname address role status } createdAt }
}`;
const twoNodes = [
  { hostname: "nas-01", address: "192.168.1.10", role: "storage" },
  { hostname: "mini-01", address: "mini-01.lan" },
];

describe("stack subgraph", () => {
  let subgraph: TestSubgraph;
  let alice: TestTenant;
  let bob: TestTenant;

  beforeAll(async () => {
    subgraph = await startTestSubgraph(stackSubgraph);
    alice = await createTestTenant(subgraph.runtime);
    bob = await createTestTenant(subgraph.runtime, { plan: "PRO" });
  });
  afterAll(() => subgraph?.stop());

  it("creates a stack with its nodes in the tenant's namespace and reads it back", async () => {
    const { data, errors } = await subgraph.query(CREATE, { caller: alice.member, variables: { name: "media", kit: "media-center", nodes: twoNodes } });
    expect(errors).toBeUndefined();
    expect(data.createStack).toMatchObject({ name: "media", status: "DRAFT", stackKit: { id: "media-center" } });
    expect(data.createStack.nodes).toEqual([
      { hostname: "mini-01", address: "mini-01.lan", role: "worker", status: "REGISTERED" },
      { hostname: "nas-01", address: "192.168.1.10", role: "storage", status: "REGISTERED" },
    ]);
    const pb = await subgraph.pocketbase.forInstance(subgraph.pocketbaseUrl);
    const stored = await pb.collection(namespaceCollections(alice.tenant.slug).stacks).getOne(data.createStack.id);
    expect(stored.name).toBe("media");

    const listed = await subgraph.query("{ stacks { id name } }", { caller: alice.member });
    expect(listed.data.stacks).toEqual([{ id: data.createStack.id, name: "media" }]);
    const one = await subgraph.query(`{ stack(id: "${data.createStack.id}") { name jobs { id } } }`, { caller: alice.member });
    expect(one.data.stack).toEqual({ name: "media", jobs: [] });
  });

  it("keeps tenants apart: another tenant cannot read, list or delete a stack even by id", async () => {
    const created = await subgraph.query(CREATE, { caller: alice.member, variables: { name: "private", kit: "base-homelab", nodes: twoNodes } });
    const id = created.data.createStack.id;
    const read = await subgraph.query(`{ stack(id: "${id}") { id } }`, { caller: bob.member });
    expect(read.data.stack).toBeNull();
    const listed = await subgraph.query("{ stacks { id } }", { caller: bob.member });
    expect(listed.data.stacks.map((s: { id: string }) => s.id)).not.toContain(id);
    const deleted = await subgraph.query(`mutation { deleteStack(id: "${id}") }`, { caller: bob.member });
    expect(deleted.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    const tenantStacks = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Tenant { stacks { id } } } }';
    const viaEntity = await subgraph.query(tenantStacks, { caller: bob.member, variables: { r: [{ __typename: "Tenant", id: alice.tenant.id }] } });
    expect(viaEntity.data._entities).toEqual([{ stacks: [] }]);
    const own = await subgraph.query(tenantStacks, { caller: alice.member, variables: { r: [{ __typename: "Tenant", id: alice.tenant.id }] } });
    expect(own.data._entities[0].stacks.map((s: { id: string }) => s.id)).toContain(id);
    const stackEntity = await subgraph.query('query($r: [_Any!]!) { _entities(representations: $r) { ... on Stack { id } } }', {
      caller: bob.member,
      variables: { r: [{ __typename: "Stack", id }] },
    });
    expect(stackEntity.data._entities).toEqual([null]);
  });

  it("validates input and names the field", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ name: "bad/name", kit: "base-homelab", nodes: twoNodes }, "name"],
      [{ name: "ok", kit: "base-homelab", nodes: [] }, "nodes"],
      [{ name: "ok", kit: "base-homelab", nodes: [{ hostname: "bad host", address: "10.0.0.1" }] }, "nodes[0].hostname"],
      [{ name: "ok", kit: "base-homelab", nodes: [{ hostname: "h", address: "not an address!" }] }, "nodes[0].address"],
      [{ name: "ok", kit: "base-homelab", nodes: [{ hostname: "h", address: "10.0.0.1", role: "Root!" }] }, "nodes[0].role"],
      [{ name: "ok", kit: "base-homelab", nodes: [{ hostname: "h", address: "10.0.0.1" }, { hostname: "H", address: "10.0.0.2" }] }, "nodes[1].hostname"],
      [{ name: "ok", kit: "no-such-kit", nodes: twoNodes }, "stackKitId"],
    ];
    for (const [variables, field] of cases) {
      const { errors } = await subgraph.query(CREATE, { caller: bob.member, variables });
      expect(errors?.[0]?.extensions, field).toMatchObject({ code: "BAD_USER_INPUT", field });
    }
  });

  it("enforces the plan: kit tier (PLAN_REQUIRED), stack quota (QUOTA_EXCEEDED) and unique names (CONFLICT)", async () => {
    const tier = await subgraph.query(CREATE, { caller: alice.member, variables: { name: "dev", kit: "dev-platform", nodes: twoNodes } });
    expect(tier.errors?.[0]?.extensions).toMatchObject({ code: "PLAN_REQUIRED", requiredTier: "PRO" });
    const allowed = await subgraph.query(CREATE, { caller: bob.member, variables: { name: "dev", kit: "dev-platform", nodes: twoNodes } });
    expect(allowed.errors).toBeUndefined();
    const duplicate = await subgraph.query(CREATE, { caller: bob.member, variables: { name: "dev", kit: "base-homelab", nodes: twoNodes } });
    expect(duplicate.errors?.[0]?.extensions?.code).toBe("CONFLICT");

    const free = await createTestTenant(subgraph.runtime);
    for (let i = 0; i < 3; i++) {
      const ok = await subgraph.query(CREATE, { caller: free.member, variables: { name: `s${i}`, kit: "base-homelab", nodes: twoNodes } });
      expect(ok.errors).toBeUndefined();
    }
    const over = await subgraph.query(CREATE, { caller: free.member, variables: { name: "s3", kit: "base-homelab", nodes: twoNodes } });
    expect(over.errors?.[0]?.extensions).toMatchObject({ code: "QUOTA_EXCEEDED", limit: 3 });
  });

  it("reads jobs with their log tail and stack, and deletes stacks", async () => {
    const created = await subgraph.query(CREATE, { caller: bob.member, variables: { name: "with-job", kit: "base-homelab", nodes: twoNodes } });
    const stackId = created.data.createStack.id;
    const pb = await subgraph.pocketbase.forInstance(subgraph.pocketbaseUrl);
    const job = await pb.collection(namespaceCollections(bob.tenant.slug).jobs).create({
      stack: stackId,
      kind: "DEPLOY",
      status: "SUCCEEDED",
      progress: 1,
      message: "done",
      logs: ["one", "two", "three"],
      started_at: "2026-11-01 10:00:00.000Z",
      finished_at: "2026-11-01 10:01:00.000Z",
    });
    const { data, errors } = await subgraph.query(`{ job(id: "${job.id}") { kind status progress message logs(tail: 2) stack { id name } startedAt finishedAt } }`, { caller: bob.member });
    expect(errors).toBeUndefined();
    expect(data.job).toEqual({
      kind: "DEPLOY",
      status: "SUCCEEDED",
      progress: 1,
      message: "done",
      logs: ["two", "three"],
      stack: { id: stackId, name: "with-job" },
      startedAt: "2026-11-01T10:00:00.000Z",
      finishedAt: "2026-11-01T10:01:00.000Z",
    });
    const foreign = await subgraph.query(`{ job(id: "${job.id}") { id } }`, { caller: alice.member });
    expect(foreign.data.job).toBeNull();
    const jobs = await subgraph.query(`{ stack(id: "${stackId}") { jobs(last: 5) { id } } }`, { caller: bob.member });
    expect(jobs.data.stack.jobs).toEqual([{ id: job.id }]);

    const deleted = await subgraph.query(`mutation { deleteStack(id: "${stackId}") }`, { caller: bob.member });
    expect(deleted.data.deleteStack).toBe(true);
    const gone = await subgraph.query(`{ stack(id: "${stackId}") { id } }`, { caller: bob.member });
    expect(gone.data.stack).toBeNull();
  });

  it("refuses anonymous callers and callers whose organisation has no tenant", async () => {
    const anonymous = await subgraph.query("{ stacks { id } }");
    expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const noTenant = await subgraph.query("{ stacks { id } }", { caller: { ...alice.member, tenant: null } });
    expect(noTenant.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });
});
