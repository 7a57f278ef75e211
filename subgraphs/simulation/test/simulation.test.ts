import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tables } from "@kombify/testkit";
import { simulationSubgraph } from "@kombify/subgraph-simulation";
import { createTestTenant, startTestSubgraph, type TestSubgraph, type TestTenant } from "@kombify/testkit";

const NO_ENGINE = "/tmp/kombify-no-docker-engine-here.sock";

describe("simulation subgraph", () => {
  let subgraph: TestSubgraph;
  let alice: TestTenant;
  let bob: TestTenant;
  let simulationId: string;

  beforeAll(async () => {
    // No engine at this address: reads work from PostgreSQL, mutations say where Docker was looked for.
    subgraph = await startTestSubgraph(simulationSubgraph, { env: { DOCKER_HOST: `unix://${NO_ENGINE}` } });
    alice = await createTestTenant(subgraph.runtime);
    bob = await createTestTenant(subgraph.runtime);
    const [row] = await subgraph.runtime.db
      .insert(tables.simulations)
      .values({ tenantId: alice.tenant.id, name: "three-nodes", status: "RUNNING", image: "kombify/node:test", stackKitId: "base-homelab" })
      .returning();
    simulationId = row!.id;
    await subgraph.runtime.db.insert(tables.simulationNodes).values([
      { simulationId, tenantId: alice.tenant.id, name: "node-2", image: "kombify/node:test", sshPort: null, status: "RUNNING" },
      { simulationId, tenantId: alice.tenant.id, name: "node-1", image: "kombify/node:test", containerId: "abc", status: "RUNNING" },
    ]);
  });
  afterAll(() => subgraph?.stop());

  it("lists the tenant's simulations from PostgreSQL with their nodes", async () => {
    const { data, errors } = await subgraph.query("{ simulations { id name status stackKit { id } nodes { name containerId image sshHost status } } }", { caller: alice.member });
    expect(errors).toBeUndefined();
    expect(data.simulations).toEqual([
      {
        id: simulationId,
        name: "three-nodes",
        status: "RUNNING",
        stackKit: { id: "base-homelab" },
        nodes: [
          { name: "node-1", containerId: "abc", image: "kombify/node:test", sshHost: "127.0.0.1", status: "RUNNING" },
          { name: "node-2", containerId: null, image: "kombify/node:test", sshHost: "127.0.0.1", status: "RUNNING" },
        ],
      },
    ]);
  });

  it("never shows one tenant's simulation to another, even by id", async () => {
    const listed = await subgraph.query("{ simulations { id } }", { caller: bob.member });
    expect(listed.data.simulations).toEqual([]);
    const byId = await subgraph.query(`{ simulation(id: "${simulationId}") { id } }`, { caller: bob.member });
    expect(byId.data.simulation).toBeNull();
    const garbage = await subgraph.query(`{ simulation(id: "not-a-uuid") { id } }`, { caller: alice.member });
    expect(garbage.data.simulation).toBeNull();
  });

  it("answers UNAVAILABLE naming the socket when the Docker engine is unreachable, and creates nothing", async () => {
    const before = await subgraph.runtime.db.select().from(tables.simulations);
    const created = await subgraph.query('mutation { createSimulation(name: "fresh", nodeCount: 2) { id } }', { caller: alice.member });
    expect(created.errors?.[0]?.extensions?.code).toBe("UNAVAILABLE");
    expect(created.errors?.[0]?.message).toContain(NO_ENGINE);
    expect(await subgraph.runtime.db.select().from(tables.simulations)).toHaveLength(before.length);
    for (const mutation of [`startSimulation(id: "${simulationId}") { id }`, `stopSimulation(id: "${simulationId}") { id }`, `deleteSimulation(id: "${simulationId}")`]) {
      const { errors } = await subgraph.query(`mutation { ${mutation} }`, { caller: alice.member });
      expect(errors?.[0]?.extensions?.code, mutation).toBe("UNAVAILABLE");
    }
    expect(await subgraph.runtime.db.select().from(tables.simulations)).toHaveLength(before.length);
  });

  it("rejects bad input with BAD_USER_INPUT naming the argument, before touching Docker", async () => {
    const cases: [string, string][] = [
      ['createSimulation(name: "zero", nodeCount: 0)', "nodeCount"],
      ['createSimulation(name: "many", nodeCount: 10000)', "nodeCount"],
      ['createSimulation(name: "x; rm -rf /", nodeCount: 1)', "name"],
      ['createSimulation(name: "$(reboot)", nodeCount: 1)', "name"],
      ['createSimulation(name: "a_b", nodeCount: 1)', "name"],
      ['createSimulation(name: "../etc", nodeCount: 1)', "name"],
      ['createSimulation(name: "UPPER", nodeCount: 1)', "name"],
      ['createSimulation(name: "", nodeCount: 1)', "name"],
      ['createSimulation(name: "ok", nodeCount: 1, image: "alpine:latest")', "image"],
      ['createSimulation(name: "ok", nodeCount: 1, image: "")', "image"],
      ['createSimulation(name: "ok", nodeCount: 1, image: "kombify/sim-node:1; echo")', "image"],
      ['createSimulation(name: "ok", nodeCount: 1, stackKitId: "no-such-kit")', "stackKitId"],
    ];
    for (const [mutation, field] of cases) {
      const { errors } = await subgraph.query(`mutation { ${mutation} { id } }`, { caller: alice.member });
      expect(errors?.[0]?.extensions?.code, mutation).toBe("BAD_USER_INPUT");
      expect(errors?.[0]?.extensions?.field, mutation).toBe(field);
    }
  });
});
