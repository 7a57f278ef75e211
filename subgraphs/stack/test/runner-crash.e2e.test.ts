import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stackSubgraph } from "@kombify/subgraph-stack";
import { createTestTenant, freePort, startTestSubgraph, subgraphTestEnv, testContextKeys, type TestSubgraph, type TestTenant } from "@kombify/testkit";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

/** A stack subgraph process whose only job here is to run jobs (a runner replica). */
async function startRunnerProcess(): Promise<ChildProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", "subgraphs/stack/src/main.ts"], {
    cwd: repoRoot,
    env: { ...process.env, ...(await subgraphTestEnv(await testContextKeys())), PORT: String(port), DRY_RUN_STEP_DELAY_MS: "700", LOG_LEVEL: "silent" },
    stdio: "ignore",
  });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if ((await fetch(`http://127.0.0.1:${port}/ready`).catch(() => null))?.ok) return child;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill("SIGKILL");
  throw new Error("runner process did not become ready");
}

describe("a job runner killed mid-job", () => {
  let api: TestSubgraph;
  let tenant: TestTenant;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    // This in-process subgraph only serves the API; the runners are separate processes.
    api = await startTestSubgraph(stackSubgraph, { env: { JOB_RUNNER_ENABLED: "false" } });
    tenant = await createTestTenant(api.runtime);
  });
  afterAll(async () => {
    for (const child of children) child.kill("SIGKILL");
    await api?.stop();
  });

  it("leaves the job failed with a message once a runner is back, never RUNNING", { timeout: 90_000 }, async () => {
    const free = await api.query('mutation { createStack(name: "crashy", stackKitId: "base-homelab", nodes: [{ hostname: "n1", address: "10.0.0.1" }, { hostname: "n2", address: "10.0.0.2" }]) { id } }', { caller: tenant.member });
    const stackId = free.data.createStack.id;

    const runner = await startRunnerProcess();
    children.push(runner);
    const deployed = await api.query(`mutation { deployStack(id: "${stackId}") { id } }`, { caller: tenant.member });
    const jobId = deployed.data.deployStack.id;
    const job = async () => (await api.query(`{ job(id: "${jobId}") { status progress message stack { status } } }`, { caller: tenant.member })).data.job;
    await expect.poll(async () => (await job()).progress, { timeout: 20_000, interval: 50 }).toBeGreaterThan(0);
    runner.kill("SIGKILL");
    expect((await job()).status).toBe("RUNNING");

    children.push(await startRunnerProcess());
    await expect.poll(async () => (await job()).status, { timeout: 20_000, interval: 100 }).toBe("FAILED");
    expect(await job()).toMatchObject({ message: "The job runner stopped while this job ran; deploy again.", stack: { status: "FAILED" } });
    const again = await api.query(`mutation { deployStack(id: "${stackId}") { id } }`, { caller: tenant.member });
    expect(again.errors).toBeUndefined();
  });
});
