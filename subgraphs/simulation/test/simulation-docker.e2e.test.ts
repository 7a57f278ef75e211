import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { connectDatabase } from "@kombify/service-core/database";
import { execInContainer, labelFilters, SIMULATION_LABELS, type DockerEngine } from "@kombify/simulation-containers";
import { tables } from "@kombify/testkit";
import { simulationSubgraph } from "@kombify/subgraph-simulation";
import { createTestTenant, startTestSubgraph, testDatabaseUrl, testDocker, type TestSubgraph, type TestTenant } from "@kombify/testkit";

const docker = await testDocker();
const SUBGRAPH_ENV = { SIMULATION_SSH_BIND: "0.0.0.0" };
const SIMULATION_FIELDS = "id name status statusMessage nodes { name containerId image sshHost sshPort status statusMessage }";

/** The first bytes a server sends on connect: an SSH server's identification line. */
function banner(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no banner on ${host}:${port}`));
    }, 5000);
    socket.once("data", (data) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(data.toString("utf8"));
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

async function containersOf(engine: DockerEngine, simulationId: string) {
  return engine.docker.listContainers({ all: true, filters: { label: labelFilters({ [SIMULATION_LABELS.simulation]: simulationId }) } });
}

/** Runs a shell command in a container and returns its exit code and output. */
async function execIn(engine: DockerEngine, containerId: string, command: string): Promise<{ exitCode: number; output: string }> {
  let output = "";
  const exitCode = await execInContainer(engine, containerId, ["sh", "-c", command], { onOutput: (chunk) => (output += chunk.toString("utf8")) });
  return { exitCode, output };
}

async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.skipIf(!docker.available)("simulations on a real Docker engine", () => {
  const engine = (docker as { engine: DockerEngine }).engine;
  let subgraph: TestSubgraph;
  let alice: TestTenant;
  let bob: TestTenant;

  const create = async (tenant: TestTenant, name: string, nodeCount: number) =>
    subgraph.query(`mutation($name: String!, $n: Int!) { createSimulation(name: $name, nodeCount: $n) { ${SIMULATION_FIELDS} } }`, {
      caller: tenant.member,
      variables: { name, n: nodeCount },
    });
  const remove = (tenant: TestTenant, id: string) => subgraph.query(`mutation { deleteSimulation(id: "${id}") }`, { caller: tenant.member });

  beforeAll(async () => {
    // Published on every interface, as a deployment exposing SSH beyond this host would.
    subgraph = await startTestSubgraph(simulationSubgraph, { env: SUBGRAPH_ENV });
    alice = await createTestTenant(subgraph.runtime, { plan: "ENTERPRISE" });
    bob = await createTestTenant(subgraph.runtime, { plan: "ENTERPRISE" });
  });
  afterAll(async () => {
    for (const tenant of [alice, bob]) {
      const { data } = await subgraph.query("{ simulations { id } }", { caller: tenant.member });
      for (const { id } of data?.simulations ?? []) await remove(tenant, id);
    }
    await subgraph?.stop();
  });

  it("creates three running nodes named <tenant>_<simulation>_<node> on the tenant's internal network, each answering SSH on its own port", async () => {
    const { data, errors } = await create(alice, "three", 3);
    expect(errors).toBeUndefined();
    const simulation = data.createSimulation;
    expect(simulation.status).toBe("RUNNING");
    expect(simulation.nodes.map((node: { name: string }) => node.name)).toEqual(["node-1", "node-2", "node-3"]);
    const ports = simulation.nodes.map((node: { sshPort: number }) => node.sshPort);
    expect(new Set(ports).size).toBe(3);

    const containers = await containersOf(engine, simulation.id);
    expect(containers.map((container) => container.Names[0]).sort()).toEqual(
      ["node-1", "node-2", "node-3"].map((node) => `/${alice.tenant.slug}_three_${node}`),
    );
    for (const summary of containers) {
      const details = await engine.docker.getContainer(summary.Id).inspect();
      expect(details.State.Running).toBe(true);
      expect(details.Config.Labels).toMatchObject({
        [SIMULATION_LABELS.tenant]: alice.tenant.id,
        [SIMULATION_LABELS.simulation]: simulation.id,
        [SIMULATION_LABELS.node]: details.Config.Hostname,
      });
      expect(Object.keys(details.NetworkSettings.Networks)).toEqual([`kombify_${alice.tenant.slug}`]);
      expect(details.HostConfig.Privileged).toBe(false);
      expect(details.HostConfig.Memory).toBeGreaterThan(0);
      expect(details.HostConfig.NanoCpus).toBeGreaterThan(0);
      expect(details.Mounts).toEqual([]);
    }
    const network = await engine.docker.getNetwork(`kombify_${alice.tenant.slug}`).inspect();
    expect(network.Internal).toBe(true);
    for (const node of simulation.nodes) expect(await banner(node.sshHost, node.sshPort)).toMatch(/^SSH-2\.0-/);
  });

  it("keeps tenants' networks apart: a node reaches its neighbour but not another tenant's node", async () => {
    const own = (await create(alice, "pair", 2)).data.createSimulation;
    const other = (await create(bob, "lonely", 1)).data.createSimulation;
    const [first, second] = own.nodes;
    const [foreign] = other.nodes;
    const address = async (containerId: string) => Object.values((await engine.docker.getContainer(containerId).inspect()).NetworkSettings.Networks)[0]!.IPAddress;
    const probe = (ip: string) => `nc -w 2 ${ip} 22 </dev/null | head -c 7`;
    const neighbour = await execIn(engine, first.containerId, probe(await address(second.containerId)));
    expect(neighbour.output).toContain("SSH-2.0");
    const stranger = await execIn(engine, first.containerId, probe(await address(foreign.containerId)));
    expect(stranger.output).not.toContain("SSH");
    const back = await execIn(engine, foreign.containerId, probe(await address(first.containerId)));
    expect(back.output).not.toContain("SSH");

    // Nor through the published SSH ports: the host is reachable from every tenant network (its gateway
    // address), so the forwarder refuses connections coming from simulated nodes.
    const gateway = (await engine.docker.getContainer(foreign.containerId).inspect()).NetworkSettings.Networks[`kombify_${bob.tenant.slug}`]!.Gateway;
    const viaForwarder = await execIn(engine, foreign.containerId, `nc -w 2 ${gateway} ${first.sshPort} </dev/null | head -c 7`);
    expect(viaForwarder.output).not.toContain("SSH");
    expect(await banner("127.0.0.1", first.sshPort)).toMatch(/^SSH-2\.0-/);
  });

  it("gives 20 simulations created at once distinct SSH ports across tenants, and one of two same-name creates a CONFLICT", async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, index) => create(index % 2 ? alice : bob, `burst-${index}`, 1)),
    );
    for (const result of results) expect(result.errors).toBeUndefined();
    const ports = results.map((result) => result.data.createSimulation.nodes[0].sshPort);
    expect(new Set(ports).size).toBe(20);
    const rows = await subgraph.runtime.db.select({ port: tables.simulationNodes.sshPort }).from(tables.simulationNodes);
    expect(new Set(rows.map((row) => row.port)).size).toBe(rows.length);

    const twins = await Promise.all([create(alice, "twin", 1), create(alice, "twin", 1)]);
    expect(twins.map((twin) => twin.errors?.[0]?.extensions?.code ?? "OK").sort()).toEqual(["CONFLICT", "OK"]);
    const twin = twins.find((result) => !result.errors)!.data.createSimulation;
    expect(await containersOf(engine, twin.id)).toHaveLength(1);
    await Promise.all(results.map((result, index) => remove(index % 2 ? alice : bob, result.data.createSimulation.id)));
  });

  it("stops, starts and deletes: containers go away and their ports return to the pool", async () => {
    const simulation = (await create(alice, "cycle", 2)).data.createSimulation;
    const stopped = await subgraph.query(`mutation { stopSimulation(id: "${simulation.id}") { ${SIMULATION_FIELDS} } }`, { caller: alice.member });
    expect(stopped.data.stopSimulation.status).toBe("STOPPED");
    expect(stopped.data.stopSimulation.nodes.map((node: { status: string }) => node.status)).toEqual(["STOPPED", "STOPPED"]);
    expect((await containersOf(engine, simulation.id)).every((container) => container.State !== "running")).toBe(true);

    const started = await subgraph.query(`mutation { startSimulation(id: "${simulation.id}") { ${SIMULATION_FIELDS} } }`, { caller: alice.member });
    expect(started.data.startSimulation.status).toBe("RUNNING");
    expect(await banner("127.0.0.1", simulation.nodes[0].sshPort)).toMatch(/^SSH-2\.0-/);

    // A node started outside the API while the simulation is STOPPED: stopping again stops it.
    const stopAgain = await subgraph.query(`mutation { stopSimulation(id: "${simulation.id}") { status } }`, { caller: alice.member });
    expect(stopAgain.data.stopSimulation.status).toBe("STOPPED");
    await engine.docker.getContainer(simulation.nodes[0].containerId).start();
    await eventually(
      async () => (await subgraph.query(`{ simulation(id: "${simulation.id}") { nodes { status } } }`, { caller: alice.member })).data.simulation.nodes[0].status,
      (status) => status === "RUNNING",
    );
    const restopped = await subgraph.query(`mutation { stopSimulation(id: "${simulation.id}") { status nodes { status } } }`, { caller: alice.member });
    expect(restopped.data.stopSimulation).toEqual({ status: "STOPPED", nodes: [{ status: "STOPPED" }, { status: "STOPPED" }] });
    expect((await engine.docker.getContainer(simulation.nodes[0].containerId).inspect()).State.Running).toBe(false);
    await subgraph.query(`mutation { startSimulation(id: "${simulation.id}") { status } }`, { caller: alice.member });

    // One container already gone: deleting still succeeds and releases everything; a second delete at once finds nothing.
    await engine.docker.getContainer(simulation.nodes[1].containerId).remove({ force: true });
    const deletes = await Promise.all([remove(alice, simulation.id), remove(alice, simulation.id)]);
    expect(deletes.map((result) => result.data?.deleteSimulation ?? result.errors?.[0]?.extensions?.code).sort()).toEqual(["NOT_FOUND", true]);
    expect(await containersOf(engine, simulation.id)).toEqual([]);
    const left = await subgraph.runtime.db.select().from(tables.simulationNodes).where(eq(tables.simulationNodes.simulationId, simulation.id));
    expect(left).toEqual([]);
    await expect(banner("127.0.0.1", simulation.nodes[0].sshPort)).rejects.toThrow();
  });

  it("reports a node killed outside the API: the node and its simulation FAILED, with a message", async () => {
    const simulation = (await create(alice, "victim", 2)).data.createSimulation;
    await engine.docker.getContainer(simulation.nodes[1].containerId).kill();
    const after = await eventually(
      async () => (await subgraph.query(`{ simulation(id: "${simulation.id}") { ${SIMULATION_FIELDS} } }`, { caller: alice.member })).data.simulation,
      (value) => value.status === "FAILED",
    );
    expect(after.status).toBe("FAILED");
    expect(after.statusMessage).toContain("node-2 stopped outside kombify");
    expect(after.nodes.map((node: { status: string }) => node.status)).toEqual(["RUNNING", "FAILED"]);
    const restarted = await subgraph.query(`mutation { startSimulation(id: "${simulation.id}") { status } }`, { caller: alice.member });
    expect(restarted.data.startSimulation.status).toBe("RUNNING");
  });

  it("enforces the plan's quotas with QUOTA_EXCEEDED naming the limit", async () => {
    const free = await createTestTenant(subgraph.runtime);
    const tooMany = await create(free, "big", 4);
    expect(tooMany.errors?.[0]?.extensions?.code).toBe("QUOTA_EXCEEDED");
    expect(tooMany.errors?.[0]?.message).toContain("3");
    expect(tooMany.errors?.[0]?.extensions?.limit).toBe(3);
    const first = await create(free, "one", 1);
    const second = await create(free, "two", 1);
    const third = await create(free, "three", 1);
    expect([first.errors, second.errors]).toEqual([undefined, undefined]);
    expect(third.errors?.[0]?.extensions?.code).toBe("QUOTA_EXCEEDED");
    expect(third.errors?.[0]?.extensions?.limit).toBe(2);
    await remove(free, first.data.createSimulation.id);
    await remove(free, second.data.createSimulation.id);
  });

  it("rebuilds state after a restart: orphans removed, missing containers FAILED, running nodes reachable again, no duplicates", async () => {
    const kept = (await create(alice, "kept", 2)).data.createSimulation;
    const broken = (await create(alice, "broken", 1)).data.createSimulation;
    const orphaned = (await create(bob, "orphaned", 1)).data.createSimulation;
    await subgraph.stop();

    // While the subgraph is down: one container disappears, one simulation's rows disappear.
    await engine.docker.getContainer(broken.nodes[0].containerId).remove({ force: true });
    const database = connectDatabase(await testDatabaseUrl());
    await database.db.delete(tables.simulations).where(eq(tables.simulations.id, orphaned.id));
    await database.close();
    subgraph = await startTestSubgraph(simulationSubgraph, { env: SUBGRAPH_ENV });

    expect(await eventually(() => containersOf(engine, orphaned.id), (containers) => containers.length === 0)).toEqual([]);
    const brokenAfter = await eventually(
      async () => (await subgraph.query(`{ simulation(id: "${broken.id}") { status statusMessage } }`, { caller: alice.member })).data.simulation,
      (value) => value.status === "FAILED",
    );
    expect(brokenAfter).toMatchObject({ status: "FAILED", statusMessage: expect.stringContaining("missing") });
    const keptAfter = (await subgraph.query(`{ simulation(id: "${kept.id}") { ${SIMULATION_FIELDS} } }`, { caller: alice.member })).data.simulation;
    expect(keptAfter.status).toBe("RUNNING");
    expect(await containersOf(engine, kept.id)).toHaveLength(2);
    for (const node of keptAfter.nodes) expect(await banner(node.sshHost, node.sshPort)).toMatch(/^SSH-2\.0-/);
  });
});
