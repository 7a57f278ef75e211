import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { namespaceCollections, PocketBaseConnections, pocketBaseAnswers } from "@kombify/homelab-store";
import type { SignedInCaller } from "@kombify/service-core/auth";
import { createLogger } from "@kombify/service-core/logging";
import { pocketBaseBinary } from "@kombify/pocketbase-process";
import { startTestSubgraph, TEST_SUPERUSER, uniqueSuffix, type TestSubgraph } from "@kombify/testkit";
import { InstanceDirectory, tenantSubgraph } from "../src/index.js";
import { InstanceGrowth } from "../src/provisioning/instance-growth.js";
import { InstanceProvisioning } from "../src/provisioning/instance-provisioning.js";
import { ProcessProvisioner } from "../src/provisioning/process-provisioner.js";

const newcomer = (): SignedInCaller => {
  const suffix = uniqueSuffix();
  return { kind: "user", userId: `user-${suffix}`, email: `${suffix}@example.test`, name: "New", orgId: `org-${suffix}`, orgName: null, roles: [], tenant: null };
};
const admin = (): SignedInCaller => ({ ...newcomer(), roles: ["platform:admin"] });

/** A block of ports for the instances this file provisions, below the kernel's ephemeral range (32768 and up). */
const portBlock = () => {
  const first = 20_000 + Math.floor(Math.random() * 120) * 100;
  return `${first}-${first + 99}`;
};

/**
 * Issue 15's growth: when the SHARED instances fill up to INSTANCE_PROVISION_AT, exactly one new instance is
 * provisioned at a time, however many replicas and sign-ups; no instance ever holds more than maxTenants.
 */
describe("automatic growth of the KombiStack instances (process provisioner)", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "kombify-growth-"));
  const connections = new PocketBaseConnections(TEST_SUPERUSER, 60_000);
  let subgraph: TestSubgraph;
  let replica: TestSubgraph;

  beforeAll(async () => {
    const env = {
      STACK_INSTANCE_NAME: `growth-${uniqueSuffix()}`,
      STACK_INSTANCE_MAX_TENANTS: "10",
      INSTANCE_PROVISIONER: "process",
      INSTANCE_PROVISION_AT: "9",
      INSTANCE_PROVISION_WAIT_MS: "120000",
      INSTANCE_PROCESS_DATA_DIR: dataDir,
      INSTANCE_PROCESS_PORTS: portBlock(),
      TENANT_CREATION_PER_ADDRESS: "1000",
      TENANT_CREATION_OVERALL: "1000",
    };
    subgraph = await startTestSubgraph(tenantSubgraph, { env });
    replica = await startTestSubgraph(tenantSubgraph, { env });
  });
  afterAll(async () => {
    await subgraph?.stop();
    await replica?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("places 100 concurrent new tenants across two replicas without ever putting an 11th on a 10-place instance, provisioning exactly the instances the threshold calls for", { timeout: 240_000 }, async () => {
    const { sql } = subgraph.runtime.database;
    let fullest = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const [row] = await sql<{ most: number }[]>`select coalesce(max(n), 0)::int as most from (select count(*) as n from tenant.tenants group by instance_id) counts`;
        fullest = Math.max(fullest, row!.most);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        (i % 2 ? replica : subgraph).query(`mutation { createTenant(name: "Lab ${i}", slug: "grow-${i}-${uniqueSuffix()}") { id slug instance { id } } }`, { caller: newcomer() }),
      ),
    );
    sampling = false;
    await sampler;
    expect(answers.filter((answer) => answer.errors).map((answer) => answer.errors![0]!.message)).toEqual([]);
    expect(fullest).toBeLessThanOrEqual(10);

    type Listed = { id: string; maxTenants: number; tenantCount: number; healthy: boolean; provisioner: string; pocketbaseUrl: string };
    const list = async () => (await subgraph.query("{ instances { id name maxTenants tenantCount healthy provisioner pocketbaseUrl } }", { caller: admin() })).data.instances as Listed[];
    // 100 tenants on 10-place instances that grow at 9: the 10th instance reaches 9 with the 99th, so an 11th is made
    // (in the background, after the answers), and no 12th.
    await expect.poll(async () => (await list()).length, { timeout: 20_000, interval: 200 }).toBe(11);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const instances = await list();
    expect(instances).toHaveLength(11);
    expect(instances.filter((instance) => instance.provisioner === "process")).toHaveLength(10);
    expect(instances.every((instance) => instance.tenantCount <= instance.maxTenants && instance.healthy)).toBe(true);
    expect(instances.reduce((sum, instance) => sum + instance.tenantCount, 0)).toBe(100);

    // Every tenant's namespace is on the instance it was placed on.
    const urlOf = new Map(instances.map((instance) => [instance.id, instance.pocketbaseUrl]));
    const collectionsOn = new Map<string, Set<string>>();
    for (const [id, url] of urlOf) {
      const pb = await connections.forInstance(url);
      collectionsOn.set(id, new Set((await pb.collections.getFullList({ fields: "name" })).map((collection) => collection.name)));
    }
    for (const answer of answers) {
      const tenant = answer.data.createTenant as { slug: string; instance: { id: string } };
      const names = namespaceCollections(tenant.slug);
      expect(collectionsOn.get(tenant.instance.id)!.has(names.stacks), tenant.slug).toBe(true);
      expect(collectionsOn.get(tenant.instance.id)!.has(names.users), tenant.slug).toBe(true);
    }
  });

  it("provisions exactly one instance when two replicas find the shared instances filling up at the same moment", async () => {
    const log = createLogger("growth-test", "silent");
    const instances = new InstanceDirectory(subgraph.runtime.db);
    const before = await instances.list();
    const { free } = await instances.sharedRoom();
    // Two replicas' growth over one database, each with its own provisioner, for which the free places now are just
    // at the low-water mark: one more 10-place instance lifts them above it.
    const replicas = [0, 1].map((i) => {
      const first = 20_000 + i * 100 + Math.floor(Math.random() * 60) * 200;
      const provisioner = new ProcessProvisioner({ binary: pocketBaseBinary(), dataDir, ports: { first, last: first + 99 }, superuser: TEST_SUPERUSER, log });
      const provisioning = new InstanceProvisioning(subgraph.runtime.db, instances, provisioner, { sharedMaxTenants: 10 }, log);
      const growth = new InstanceGrowth(subgraph.runtime.database.sql, instances, provisioning, { provisionAt: 10 - free, sharedMaxTenants: 10, region: "twin", checkIntervalMs: 60_000, retryAfterFailureMs: 60_000 }, log);
      return { provisioner, growth };
    });
    try {
      for (const { growth } of replicas) growth.nudge();
      await Promise.all(replicas.map(({ growth }) => growth.stop()));
      const after = await instances.list();
      const twins = after.filter((instance) => instance.region === "twin");
      expect(twins).toHaveLength(1);
      expect(after).toHaveLength(before.length + 1);

      // Retiring it (it holds no tenant) takes it out of service and removes its PocketBase; one with tenants is refused.
      const twin = twins[0]!;
      const retired = await replicas[0]!.growth["provisioning"].retireInstance(twin.id);
      expect(retired).toMatchObject({ id: twin.id });
      expect((await instances.list()).map((instance) => instance.id)).not.toContain(twin.id);
      await expect.poll(() => pocketBaseAnswers(twin.pocketbaseUrl), { timeout: 10_000 }).toBe(false);
      const occupied = before.find((instance) => instance.tenantCount > 0)!;
      await expect(replicas[0]!.growth["provisioning"].retireInstance(occupied.id)).rejects.toMatchObject({ extensions: { code: "CONFLICT" } });
      await expect(replicas[0]!.growth["provisioning"].retireInstance(twin.id)).rejects.toMatchObject({ extensions: { code: "NOT_FOUND" } });
    } finally {
      await Promise.all(replicas.map(({ provisioner }) => provisioner.close()));
    }
  });

  it("lets a platform admin provision an instance, which is in service and audited when the mutation answers", async () => {
    const caller = admin();
    const answer = await subgraph.query('mutation { provisionInstance(region: "eu", mode: SHARED) { id name region deploymentMode maxTenants tenantCount healthy provisioner pocketbaseUrl } }', { caller });
    expect(answer.errors).toBeUndefined();
    const made = answer.data.provisionInstance;
    expect(made).toMatchObject({ region: "eu", deploymentMode: "SHARED", maxTenants: 10, tenantCount: 0, healthy: true, provisioner: "process" });
    expect(await pocketBaseAnswers(made.pocketbaseUrl)).toBe(true);
    const { sql } = subgraph.runtime.database;
    const [entry] = await sql`select action, target, actor_user_id from platform.audit_log where action = 'instance.provision'`;
    expect(entry).toMatchObject({ action: "instance.provision", target: `instance:${made.id}`, actor_user_id: caller.userId });
    const refused = await subgraph.query('mutation { provisionInstance(region: "eu", mode: SHARED) { id } }', { caller: newcomer() });
    expect(refused.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });
});
