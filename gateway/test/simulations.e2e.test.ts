import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFileSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_STACKKITS_DIR } from "@kombify/stackkit-catalog";
import { execInContainer, labelFilters, SIMULATION_LABELS, type DockerEngine } from "@kombify/simulation-containers";
import { collect, startTestSupergraph, testDocker, uniqueSuffix, wsClient, type TestSupergraph } from "@kombify/testkit";

const docker = await testDocker();

const WATCH = `subscription Watch($id: ID) {
  simulationUpdated(id: $id) { id name status statusMessage stackKit { name } nodes { name status } }
}`;

interface SimulationEvent {
  simulationUpdated: { id: string; name: string; status: string; statusMessage: string | null; stackKit: { name: string } | null; nodes: { name: string; status: string }[] };
}

describe.skipIf(!docker.available)("simulations through the gateway, on a real Docker engine", () => {
  const engine = (docker as { engine: DockerEngine }).engine;
  let graph: TestSupergraph;
  let tokenA: string;
  let tokenB: string;

  beforeAll(async () => {
    // The catalog plus a kit whose step talks slowly, to see output arrive while the step still runs.
    const stackkitsDir = mkdtempSync(join(tmpdir(), "kombify-kits-"));
    for (const file of readdirSync(DEFAULT_STACKKITS_DIR)) copyFileSync(join(DEFAULT_STACKKITS_DIR, file), join(stackkitsDir, file));
    writeFileSync(join(stackkitsDir, "ticker.json"), JSON.stringify({
      id: "ticker", name: "Ticker", version: "1.0.0", description: "Says tick, slowly.", tier: "FREE", services: ["ticker"],
      steps: [{ name: "tick", run: "for i in 1 2 3 4; do echo tick $i; sleep 1; done" }],
    }));
    graph = await startTestSupergraph({ subgraphEnv: { DRY_RUN_STEP_DELAY_MS: "20", STACKKITS_DIR: stackkitsDir } });
    tokenA = await graph.issuer.mint({ sub: `a-${uniqueSuffix()}`, orgId: `org-a-${uniqueSuffix()}`, roles: ["tenant:owner"] });
    tokenB = await graph.issuer.mint({ sub: `b-${uniqueSuffix()}`, orgId: `org-b-${uniqueSuffix()}`, roles: ["tenant:owner"] });
    for (const [token, name] of [[tokenA, "sim-a"], [tokenB, "sim-b"]] as const) {
      const created = await graph.graphql(`mutation { createTenant(name: "${name}", slug: "${name}-${uniqueSuffix()}") { id } }`, { token });
      expect(created.errors).toBeUndefined();
    }
  });
  afterAll(async () => {
    for (const token of [tokenA, tokenB]) {
      const { data } = await graph.graphql("{ simulations { id } }", { token });
      for (const { id } of data?.simulations ?? []) await graph.graphql(`mutation { deleteSimulation(id: "${id}") }`, { token });
    }
    await graph?.stop();
  });

  it("streams a three-node simulation PROVISIONING → RUNNING with its StackKit from the stackkit subgraph, and a node killed outside the API within 2 s", async () => {
    const clientA = wsClient(`${graph.url}/graphql`, { authorization: `Bearer ${tokenA}` });
    const clientB = wsClient(`${graph.url}/graphql`, { authorization: `Bearer ${tokenB}` });
    const watcher = collect<SimulationEvent>(clientA, WATCH);
    const snoop = collect<SimulationEvent>(clientB, WATCH);
    await expect.poll(async () => (await graph.metrics()).subscriptions.groups, { timeout: 5000 }).toBeGreaterThanOrEqual(2);

    const created = await graph.graphql('mutation { createSimulation(name: "homelab", nodeCount: 3, stackKitId: "base-homelab") { id status nodes { name containerId sshPort } } }', { token: tokenA });
    expect(created.errors).toBeUndefined();
    const simulation = created.data.createSimulation;
    expect(simulation.status).toBe("RUNNING");

    const events = await watcher.until((all) => all.some((event) => event.data?.simulationUpdated.status === "RUNNING"));
    for (const event of events) {
      expect(event.errors).toBeUndefined();
      expect(event.data!.simulationUpdated).toMatchObject({ id: simulation.id, name: "homelab", stackKit: { name: "Base Homelab" } });
    }
    const statuses = events.map((event) => event.data!.simulationUpdated.status).filter((status, index, all) => status !== all[index - 1]);
    expect(statuses.slice(statuses.indexOf("PROVISIONING"))).toEqual(["PROVISIONING", "RUNNING"]);
    expect(events.at(-1)!.data!.simulationUpdated.nodes.map((node) => node.status)).toEqual(["RUNNING", "RUNNING", "RUNNING"]);

    const killedAt = Date.now();
    await engine.docker.getContainer(simulation.nodes[2].containerId).kill();
    await watcher.until((all) => all.some((event) => event.data?.simulationUpdated.status === "FAILED"), 5000);
    expect(Date.now() - killedAt).toBeLessThan(2000);
    const failed = watcher.events.find((event) => event.data?.simulationUpdated.status === "FAILED")!.data!.simulationUpdated;
    expect(failed.statusMessage).toContain("node-3 stopped outside kombify");

    expect(snoop.events).toEqual([]);
    watcher.unsubscribe();
    snoop.unsubscribe();
    await clientA.dispose();
    await clientB.dispose();
  });

  it("deploys a stack into a simulation: the kit's steps run inside the containers and their output is in the job's logs", async () => {
    const created = await graph.graphql('mutation { createSimulation(name: "deploy-target", nodeCount: 2) { id status nodes { containerId } } }', { token: tokenA });
    expect(created.data.createSimulation.status).toBe("RUNNING");
    const simulationId = created.data.createSimulation.id;
    const stack = await graph.graphql(
      `mutation { createStack(name: "on-sim", stackKitId: "base-homelab", nodes: [], simulationId: "${simulationId}") { id nodes { hostname address } simulation { id name } } }`,
      { token: tokenA },
    );
    expect(stack.errors).toBeUndefined();
    expect(stack.data.createStack.nodes.map((node: { hostname: string }) => node.hostname)).toEqual(["node-1", "node-2"]);
    expect(stack.data.createStack.simulation).toEqual({ id: simulationId, name: "deploy-target" });

    // Tenant B cannot aim a stack at A's simulation.
    const foreign = await graph.graphql(`mutation { createStack(name: "steal", stackKitId: "base-homelab", nodes: [], simulationId: "${simulationId}") { id } }`, { token: tokenB });
    expect(foreign.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");

    const deployed = await graph.graphql(`mutation { deployStack(id: "${stack.data.createStack.id}") { id } }`, { token: tokenA });
    const jobId = deployed.data.deployStack.id;
    await expect
      .poll(async () => (await graph.graphql(`{ job(id: "${jobId}") { status } }`, { token: tokenA })).data.job.status, { timeout: 30_000, interval: 200 })
      .toBe("SUCCEEDED");
    const job = (await graph.graphql(`{ job(id: "${jobId}") { status logs(tail: 100) } }`, { token: tokenA })).data.job;
    expect(job.logs).toContain("[node-1] $ mkdir -p /opt/kombify && echo prepared");
    expect(job.logs).toContain("[node-1] prepared");
    expect(job.logs).toContain("[node-2] starting homepage and portainer");

    for (const { containerId } of created.data.createSimulation.nodes) {
      expect(await execInContainer(engine, containerId, ["test", "-d", "/opt/kombify"])).toBe(0);
    }
    const containers = await engine.docker.listContainers({ filters: { label: labelFilters({ [SIMULATION_LABELS.simulation]: simulationId }) } });
    expect(containers).toHaveLength(2);

    // Deleting the simulation says so to its subscribers, and the stack's next deploy fails rather than run nowhere.
    const client = wsClient(`${graph.url}/graphql`, { authorization: `Bearer ${tokenA}` });
    const watcher = collect<SimulationEvent>(client, WATCH, { id: simulationId });
    await expect.poll(async () => (await graph.metrics()).subscriptions.subscribers, { timeout: 5000 }).toBeGreaterThanOrEqual(1);
    expect((await graph.graphql(`mutation { deleteSimulation(id: "${simulationId}") }`, { token: tokenA })).data.deleteSimulation).toBe(true);
    await watcher.done;
    expect(watcher.events.at(-1)!.data!.simulationUpdated).toMatchObject({ id: simulationId, status: "DELETED", nodes: [] });
    await client.dispose();
    const again = await graph.graphql(`mutation { deployStack(id: "${stack.data.createStack.id}") { id } }`, { token: tokenA });
    await expect
      .poll(async () => (await graph.graphql(`{ job(id: "${again.data.deployStack.id}") { status message } }`, { token: tokenA })).data.job, { timeout: 30_000, interval: 200 })
      .toMatchObject({ status: "FAILED", message: expect.stringContaining("was deleted") });
    expect((await graph.graphql(`{ stack(id: "${stack.data.createStack.id}") { simulation { id } } }`, { token: tokenA })).data.stack.simulation).toBeNull();
  });

  it("streams a step's output into the job's logs while the step runs", async () => {
    const created = await graph.graphql('mutation { createSimulation(name: "ticking", nodeCount: 1) { id status } }', { token: tokenA });
    expect(created.data.createSimulation.status).toBe("RUNNING");
    const stack = await graph.graphql(`mutation { createStack(name: "ticks", stackKitId: "ticker", nodes: [], simulationId: "${created.data.createSimulation.id}") { id } }`, { token: tokenA });
    const client = wsClient(`${graph.url}/graphql`, { authorization: `Bearer ${tokenA}` });
    const jobs = collect<{ jobUpdated: { status: string; logs: string[] } }>(client, "subscription($stackId: ID) { jobUpdated(stackId: $stackId) { status logs(tail: 20) } }", { stackId: stack.data.createStack.id });
    await expect.poll(async () => (await graph.metrics()).subscriptions.subscribers, { timeout: 5000 }).toBeGreaterThanOrEqual(1);
    await graph.graphql(`mutation { deployStack(id: "${stack.data.createStack.id}") { id } }`, { token: tokenA });
    const events = await jobs.until((all) => all.some((event) => event.data?.jobUpdated.status === "SUCCEEDED"), 30_000);
    const partial = events.find((event) => event.data!.jobUpdated.logs.includes("[node-1] tick 1") && !event.data!.jobUpdated.logs.includes("[node-1] tick 4"));
    expect(partial, JSON.stringify(events.map((event) => event.data?.jobUpdated.logs))).toBeDefined();
    expect(events.at(-1)!.data!.jobUpdated.logs).toContain("[node-1] tick 4");
    await client.dispose();

    // Cancelling interrupts the step under way: the job ends CANCELLED with no later output, the stack as it was.
    const redeploy = await graph.graphql(`mutation { deployStack(id: "${stack.data.createStack.id}") { id } }`, { token: tokenA });
    const jobId = redeploy.data.deployStack.id;
    const jobLogs = async () => (await graph.graphql(`{ job(id: "${jobId}") { status logs(tail: 50) } }`, { token: tokenA })).data.job;
    await expect.poll(async () => (await jobLogs()).logs.filter((line: string) => line === "[node-1] tick 1").length, { timeout: 15_000, interval: 100 }).toBe(1);
    expect((await graph.graphql(`mutation { cancelJob(id: "${jobId}") { status } }`, { token: tokenA })).data.cancelJob.status).toBe("CANCELLED");
    await new Promise((resolve) => setTimeout(resolve, 4500));
    const afterCancel = await jobLogs();
    expect(afterCancel.status).toBe("CANCELLED");
    expect(afterCancel.logs).not.toContain("[node-1] tick 4");
    expect((await graph.graphql(`{ stack(id: "${stack.data.createStack.id}") { status } }`, { token: tokenA })).data.stack.status).toBe("RUNNING");
    await graph.graphql(`mutation { deleteSimulation(id: "${created.data.createSimulation.id}") }`, { token: tokenA });
  });

  it("fails a deploy with the step's exit code when a simulated node is stopped", async () => {
    // The free plan holds two simulations: make room.
    for (const { id } of (await graph.graphql("{ simulations { id } }", { token: tokenA })).data.simulations) {
      expect((await graph.graphql(`mutation { deleteSimulation(id: "${id}") }`, { token: tokenA })).data.deleteSimulation).toBe(true);
    }
    const created = await graph.graphql('mutation { createSimulation(name: "stopped-target", nodeCount: 1) { id } }', { token: tokenA });
    const simulationId = created.data.createSimulation.id;
    const stack = await graph.graphql(`mutation { createStack(name: "on-stopped", stackKitId: "base-homelab", nodes: [], simulationId: "${simulationId}") { id } }`, { token: tokenA });
    await graph.graphql(`mutation { stopSimulation(id: "${simulationId}") { status } }`, { token: tokenA });
    const deployed = await graph.graphql(`mutation { deployStack(id: "${stack.data.createStack.id}") { id } }`, { token: tokenA });
    const jobId = deployed.data.deployStack.id;
    await expect
      .poll(async () => (await graph.graphql(`{ job(id: "${jobId}") { status } }`, { token: tokenA })).data.job.status, { timeout: 30_000, interval: 200 })
      .toBe("FAILED");
    const job = (await graph.graphql(`{ job(id: "${jobId}") { message } }`, { token: tokenA })).data.job;
    expect(job.message).toMatch(/node-1.*(exited|start the simulation)/);
  });
});
