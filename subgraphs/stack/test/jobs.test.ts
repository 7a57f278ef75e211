import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stackSubgraph } from "@kombify/subgraph-stack";
import { collect, createTestTenant, startTestSubgraph, wsClient, type TestSubgraph, type TestTenant } from "@kombify/testkit";

const JOB_FIELDS = "id kind status progress message logs startedAt finishedAt stack { id status }";

describe("stack jobs: deploy, run, cancel", () => {
  let subgraph: TestSubgraph;
  let tenant: TestTenant;

  async function newStack(name: string): Promise<string> {
    const { data, errors } = await subgraph.query(
      `mutation { createStack(name: "${name}", stackKitId: "base-homelab", nodes: [{ hostname: "n1", address: "10.0.0.1" }, { hostname: "n2", address: "10.0.0.2" }]) { id } }`,
      { caller: tenant.member },
    );
    expect(errors).toBeUndefined();
    return data.createStack.id;
  }

  async function job(id: string) {
    return (await subgraph.query(`{ job(id: "${id}") { ${JOB_FIELDS} } }`, { caller: tenant.member })).data.job;
  }

  beforeAll(async () => {
    subgraph = await startTestSubgraph(stackSubgraph, { env: { DRY_RUN_STEP_DELAY_MS: "60" } });
    tenant = await createTestTenant(subgraph.runtime, { plan: "PRO" });
  });
  afterAll(() => subgraph?.stop());

  it("runs a deploy from QUEUED to SUCCEEDED with rising progress and a log line per step and node", async () => {
    const stackId = await newStack("deploy-me");
    const { data, errors } = await subgraph.query(`mutation { deployStack(id: "${stackId}") { ${JOB_FIELDS} } }`, { caller: tenant.member });
    expect(errors).toBeUndefined();
    expect(data.deployStack).toMatchObject({ kind: "DEPLOY", status: "QUEUED", progress: 0, stack: { status: "DEPLOYING" } });
    const seen: number[] = [];
    await expect
      .poll(async () => {
        const current = await job(data.deployStack.id);
        seen.push(current.progress);
        return current.status;
      }, { timeout: 10_000, interval: 40 })
      .toBe("SUCCEEDED");
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    const done = await job(data.deployStack.id);
    expect(done).toMatchObject({ progress: 1, stack: { status: "RUNNING" } });
    expect(done.logs).toContain("[n1] $ mkdir -p /opt/kombify && echo prepared");
    expect(done.logs.filter((line: string) => line.includes("recorded"))).toHaveLength(6); // 3 steps × 2 nodes
    expect(new Date(done.finishedAt).getTime()).toBeGreaterThanOrEqual(new Date(done.startedAt).getTime());
  });

  it("allows one active job per stack, and cancels a running job before its next step", async () => {
    const stackId = await newStack("one-at-a-time");
    const first = await subgraph.query(`mutation { deployStack(id: "${stackId}") { id } }`, { caller: tenant.member });
    const second = await subgraph.query(`mutation { deployStack(id: "${stackId}") { id } }`, { caller: tenant.member });
    expect(second.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    const jobId = first.data.deployStack.id;
    await expect.poll(async () => (await job(jobId)).status, { timeout: 5000, interval: 20 }).toBe("RUNNING");
    const cancelled = await subgraph.query(`mutation { cancelJob(id: "${jobId}") { status } }`, { caller: tenant.member });
    expect(cancelled.data.cancelJob.status).toBe("CANCELLED");
    await new Promise((resolve) => setTimeout(resolve, 400));
    const after = await job(jobId);
    expect(after.status).toBe("CANCELLED");
    expect(after.progress).toBeLessThan(1);
    expect(after.stack.status).toBe("DRAFT");
    const again = await subgraph.query(`mutation { cancelJob(id: "${jobId}") { status } }`, { caller: tenant.member });
    expect(again.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    const redeploy = await subgraph.query(`mutation { deployStack(id: "${stackId}") { id } }`, { caller: tenant.member });
    expect(redeploy.errors).toBeUndefined();
  });
});

describe("jobUpdated on the stack subgraph itself", () => {
  let subgraph: TestSubgraph;
  let alice: TestTenant;
  let bob: TestTenant;

  beforeAll(async () => {
    subgraph = await startTestSubgraph(stackSubgraph, { env: { DRY_RUN_STEP_DELAY_MS: "40" } });
    alice = await createTestTenant(subgraph.runtime);
    bob = await createTestTenant(subgraph.runtime);
  });
  afterAll(() => subgraph?.stop());

  it("streams the tenant's job changes from PocketBase, filtered in the subgraph, and nothing of other tenants", async () => {
    const stack = await subgraph.query(
      'mutation { createStack(name: "watched", stackKitId: "base-homelab", nodes: [{ hostname: "n1", address: "10.0.0.1" }]) { id } }',
      { caller: alice.member },
    );
    const stackId = stack.data.createStack.id;
    const client = wsClient(`${subgraph.url}/graphql`);
    const query = "subscription($stackId: ID) { jobUpdated(stackId: $stackId) { id status progress logs(tail: 1) } }";
    const own = collect(client, query, { stackId }, { kombifyContext: await subgraph.contextFor(alice.member, query) });
    const stranger = collect(client, query, { stackId }, { kombifyContext: await subgraph.contextFor(bob.member, query) });
    const anonymous = collect(client, query, { stackId });
    await expect(anonymous.until((events) => events.length > 0)).resolves.toBeTruthy();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await subgraph.query(`mutation { deployStack(id: "${stackId}") { id } }`, { caller: alice.member });
    const events = await own.until((all) => all.some((event) => event.data?.jobUpdated.status === "SUCCEEDED"));
    const statuses = events.map((event) => event.data!.jobUpdated.status);
    expect(statuses[0]).toBe("QUEUED");
    expect(statuses).toContain("RUNNING");
    const progress = events.map((event) => event.data!.jobUpdated.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(stranger.events).toEqual([]);
    expect(anonymous.events[0]?.errors?.[0]?.extensions?.code ?? anonymous.events[0]).toBeTruthy();
    own.unsubscribe();
    stranger.unsubscribe();
    await client.dispose();
  });
});
