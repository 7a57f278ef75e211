import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { generateContextKeyPair } from "@kombify/launcher";
import { importContextSigningKey, operationHash, TENANT_CONTEXT_HEADER, TenantContextSigner } from "@kombify/service-core/tenant-context";
import { namespaceCollections } from "@kombify/homelab-store";
import { tables } from "@kombify/testkit";
import { postGraphQL, startTestSupergraph, uniqueSuffix, type TestSupergraph } from "@kombify/testkit";

/** Tenant A's token against every root field of the public API, with tenant B's ids passed explicitly. */
describe("tenant isolation across the whole API", () => {
  let graph: TestSupergraph;
  let tokenA: string;
  const b = { tenantId: "", slug: `iso-b-${uniqueSuffix()}`, stackId: "", stackName: "b-private", jobId: "", simulationId: "", userId: `user-b-${uniqueSuffix()}` };

  async function snapshotOfB() {
    const db = graph.subgraphs.tenant.runtime.db;
    const pb = await graph.subgraphs.stack.pocketbase.forInstance(graph.subgraphs.stack.pocketbaseUrl);
    const names = namespaceCollections(b.slug);
    return {
      tenant: await db.select().from(tables.tenants).where(eq(tables.tenants.id, b.tenantId)),
      flags: await db.select().from(tables.featureFlagOverrides).where(eq(tables.featureFlagOverrides.tenantId, b.tenantId)),
      simulations: await db.select().from(tables.simulations).where(eq(tables.simulations.tenantId, b.tenantId)),
      stacks: await pb.collection(names.stacks).getFullList({ sort: "id" }),
      nodes: await pb.collection(names.nodes).getFullList({ sort: "id" }),
      jobs: await pb.collection(names.jobs).getFullList({ sort: "id" }),
    };
  }

  beforeAll(async () => {
    graph = await startTestSupergraph();
    tokenA = await graph.issuer.mint({ sub: `user-a-${uniqueSuffix()}`, email: "a@example.test", orgId: `org-a-${uniqueSuffix()}`, roles: ["tenant:owner"] });
    const tokenB = await graph.issuer.mint({ sub: b.userId, email: "b@example.test", orgId: `org-b-${uniqueSuffix()}`, roles: ["tenant:owner"] });
    expect((await graph.graphql(`mutation { createTenant(name: "A", slug: "iso-a-${uniqueSuffix()}") { id } }`, { token: tokenA })).errors).toBeUndefined();
    const created = await graph.graphql(`mutation { createTenant(name: "B", slug: "${b.slug}") { id } }`, { token: tokenB });
    b.tenantId = created.data.createTenant.id;
    const stack = await graph.graphql(`mutation { createStack(name: "${b.stackName}", stackKitId: "base-homelab", nodes: [{ hostname: "b-node", address: "10.9.9.9" }]) { id } }`, { token: tokenB });
    b.stackId = stack.data.createStack.id;
    const pb = await graph.subgraphs.stack.pocketbase.forInstance(graph.subgraphs.stack.pocketbaseUrl);
    b.jobId = (await pb.collection(namespaceCollections(b.slug).jobs).create({ stack: b.stackId, kind: "DEPLOY", status: "SUCCEEDED", progress: 1, logs: ["b secret log"] })).id;
    const [simulation] = await graph.subgraphs.simulation.runtime.db
      .insert(tables.simulations)
      .values({ tenantId: b.tenantId, name: "b-sim", status: "RUNNING", image: "kombify/node:test" })
      .returning();
    b.simulationId = simulation!.id;
  });
  afterAll(() => graph?.stop());

  it("reads and changes nothing of tenant B, whatever ids tenant A passes", async () => {
    const before = await snapshotOfB();
    const operations: [string, string, string | null][] = [
      ["myTenant", "{ myTenant { id slug name stacks { id } featureFlags { key } } }", null],
      ["instances", "{ instances { name } }", "FORBIDDEN"],
      ["auditLog", "{ auditLog { target actorUserId } }", null],
      ["me", "{ me { id tenant { id } } }", null],
      ["stacks", "{ stacks { id name } }", null],
      ["stack", `{ stack(id: "${b.stackId}") { id name } }`, null],
      ["job", `{ job(id: "${b.jobId}") { id logs } }`, null],
      ["simulations", "{ simulations { id name } }", null],
      ["simulation", `{ simulation(id: "${b.simulationId}") { id } }`, null],
      ["stackKits", "{ stackKits { id entitled } }", null],
      ["stackKit", '{ stackKit(id: "base-homelab") { id } }', null],
      ["plans", "{ plans { tier } }", null],
      ["createTenant", `mutation { createTenant(name: "steal", slug: "${b.slug}") { id } }`, "CONFLICT"],
      ["setFeatureFlag", `mutation { setFeatureFlag(tenantId: "${b.tenantId}", key: "simulations", enabled: false) { key } }`, "FORBIDDEN"],
      ["createStack", `mutation { createStack(name: "${b.stackName}", stackKitId: "base-homelab", nodes: [{ hostname: "a", address: "10.0.0.1" }]) { id name } }`, null],
      ["deployStack", `mutation { deployStack(id: "${b.stackId}") { id } }`, "NOT_FOUND"],
      ["cancelJob", `mutation { cancelJob(id: "${b.jobId}") { id } }`, "NOT_FOUND"],
      ["deleteStack", `mutation { deleteStack(id: "${b.stackId}") }`, "NOT_FOUND"],
      ["createSimulation", 'mutation { createSimulation(name: "b-sim", nodeCount: 0) { id } }', "BAD_USER_INPUT"],
      ["startSimulation", `mutation { startSimulation(id: "${b.simulationId}") { id } }`, "NOT_FOUND"],
      ["stopSimulation", `mutation { stopSimulation(id: "${b.simulationId}") { id } }`, "NOT_FOUND"],
      ["deleteSimulation", `mutation { deleteSimulation(id: "${b.simulationId}") }`, "NOT_FOUND"],
      ["requestStackKitDownload", 'mutation { requestStackKitDownload(id: "base-homelab") { sha256 } }', null],
      ["startCheckout", "mutation { startCheckout(tier: PRO) { url } }", "UNAVAILABLE"],
      ["openBillingPortal", "mutation { openBillingPortal { url } }", "UNAVAILABLE"],
      ["launchHomelab", "mutation { launchHomelab { redirectUrl user { id tenant { id } } } }", null],
    ];
    for (const [name, query, expectedCode] of operations) {
      const response = await graph.graphql(query, { token: tokenA });
      const data = JSON.stringify(response.data ?? null);
      for (const secret of [b.tenantId, b.slug, b.stackId, b.jobId, b.simulationId, b.userId, "b secret log"]) {
        expect(data, `${name} leaked ${secret}`).not.toContain(secret);
      }
      if (expectedCode) expect(response.errors?.[0]?.extensions?.code, name).toBe(expectedCode);
      else expect(response.errors, name).toBeUndefined();
    }
    expect(await snapshotOfB()).toEqual(before);
  });

  it("gives a direct caller of any subgraph nothing for hand-made tenant headers or a context signed by another key", async () => {
    const impostor = await generateContextKeyPair();
    const signer = new TenantContextSigner(await importContextSigningKey(impostor.signingKey));
    const probes: Record<string, string> = {
      tenant: "{ myTenant { id } }",
      identity: "{ me { id } }",
      stack: "{ stacks { id } }",
      simulation: "{ simulations { id } }",
      stackkit: 'mutation { requestStackKitDownload(id: "base-homelab") { url } }',
      billing: `query { _entities(representations: [{ __typename: "Tenant", id: "${b.tenantId}" }]) { ... on Tenant { plan { tier } } } }`,
    };
    const rejectedBefore = (await graph.subgraphs.tenant.runtime.db.select().from(tables.auditLog).where(eq(tables.auditLog.action, "context.rejected"))).length;
    for (const [subgraph, query] of Object.entries(probes)) {
      const forged = await signer.sign(
        { kind: "user", userId: b.userId, email: null, name: null, orgId: null, orgName: null, roles: ["platform:admin"], tenant: { id: b.tenantId, slug: b.slug, plan: "ENTERPRISE" } },
        "forged",
        subgraph,
        operationHash(query),
      );
      const headerSets: Record<string, string>[] = [
        { "x-tenant-id": b.tenantId, "x-user-id": b.userId, "x-user-roles": "platform:admin", "x-org-id": "org-b" },
        { [TENANT_CONTEXT_HEADER]: forged },
      ];
      for (const headers of headerSets) {
        const url = `${graph.subgraphs[subgraph as keyof typeof graph.subgraphs].url}/graphql`;
        const response = await postGraphQL<any>(url, { query }, headers);
        expect(JSON.stringify(response.data ?? null), subgraph).not.toContain(b.tenantId);
        // FORBIDDEN: `_entities` is answered only to the gateway.
        expect(response.errors?.[0]?.extensions?.code, subgraph).toMatch(/UNAUTHENTICATED|NOT_FOUND|FORBIDDEN/);
      }
    }
    const rejectedAfter = (await graph.subgraphs.tenant.runtime.db.select().from(tables.auditLog).where(eq(tables.auditLog.action, "context.rejected"))).length;
    expect(rejectedAfter - rejectedBefore).toBe(Object.keys(probes).length);
  });
});
