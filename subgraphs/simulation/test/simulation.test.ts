import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tables } from "@kombify/service-core";
import { createSimulationSubgraph } from "@kombify/subgraph-simulation";
import { createTestTenant, startTestSubgraph, type TestSubgraph, type TestTenant } from "@kombify/testkit";

describe("simulation subgraph", () => {
  let subgraph: TestSubgraph;
  let alice: TestTenant;
  let bob: TestTenant;
  let simulationId: string;

  beforeAll(async () => {
    subgraph = await startTestSubgraph("simulation", createSimulationSubgraph);
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

  it("answers the mutations that need Docker with UNAVAILABLE until the engine is wired", async () => {
    const { errors } = await subgraph.query('mutation { createSimulation(name: "x", nodeCount: 1) { id } }', { caller: alice.member });
    expect(errors?.[0]?.extensions?.code).toBe("UNAVAILABLE");
  });
});
