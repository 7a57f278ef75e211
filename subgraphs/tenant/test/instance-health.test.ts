import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@kombify/service-core/logging";
import { pocketBaseBinary, startPocketBase, type RunningPocketBase } from "@kombify/launcher";
import { freePort, startTestSubgraph, TEST_SUPERUSER, testNamespaces, uniqueSuffix, type TestSubgraph } from "@kombify/testkit";
import { InstanceDirectory, TenantDirectory, tenantSubgraph } from "../src/index.js";

/** Issue 15's health point: a KombiStack instance whose PocketBase stops answering is taken out of service and back. */
describe("the health of KombiStack instances", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "kombify-spare-"));
  const log = createLogger("instance-health-test", "silent");
  let subgraph: TestSubgraph;
  let spare: RunningPocketBase;
  let sparePort: number;

  const startSpare = async () => {
    spare = await startPocketBase({ binary: pocketBaseBinary(), dataDir, port: sparePort, superuser: TEST_SUPERUSER, log });
  };

  beforeAll(async () => {
    chmodSync(dataDir, 0o755);
    sparePort = await freePort();
    await startSpare();
    subgraph = await startTestSubgraph(tenantSubgraph, { env: { INSTANCE_HEALTH_INTERVAL_MS: "200", INSTANCE_HEALTH_FAILURES: "2" } });
  });
  afterAll(async () => {
    await subgraph?.stop();
    await spare?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("marks an instance that stops answering unhealthy within a few checks, places new tenants elsewhere, refuses its tenants' homelab UNAVAILABLE naming it, and takes it back when it answers", async () => {
    const { db } = subgraph.runtime;
    const instances = new InstanceDirectory(db);
    const tenants = new TenantDirectory(db, testNamespaces(subgraph.runtime));
    // The roomiest instance by far: new tenants go to it while it is healthy.
    const name = `spare-${uniqueSuffix()}`;
    const instance = await instances.register({ name, region: "local", deploymentMode: "SHARED", maxTenants: 1_000_000, pocketbaseUrl: spare.url });
    const placed = await tenants.create({ name: "On the spare", slug: `spare-${uniqueSuffix()}`, zitadelOrgId: `org-${uniqueSuffix()}` });
    expect(placed.instanceId).toBe(instance.id);

    await spare.stop();
    await expect.poll(async () => (await instances.get(instance.id))?.healthy, { timeout: 5000, interval: 100 }).toBe(false);

    const elsewhere = await tenants.create({ name: "Elsewhere", slug: `else-${uniqueSuffix()}`, zitadelOrgId: `org-${uniqueSuffix()}` });
    expect(elsewhere.instanceId).not.toBe(instance.id);
    const homelab = testNamespaces(subgraph.runtime).resolve({ id: placed.id, slug: placed.slug });
    await expect(homelab).rejects.toMatchObject({ extensions: { code: "UNAVAILABLE" }, message: expect.stringContaining(name) });
    // Other tenants are untouched, and the subgraph stays ready: another instance can take tenants.
    await expect(testNamespaces(subgraph.runtime).resolve({ id: elsewhere.id, slug: elsewhere.slug })).resolves.toBeTruthy();
    expect((await fetch(`${subgraph.url}/ready`)).status).toBe(200);

    await startSpare();
    await expect.poll(async () => (await instances.get(instance.id))?.healthy, { timeout: 5000, interval: 100 }).toBe(true);
    await expect(testNamespaces(subgraph.runtime).resolve({ id: placed.id, slug: placed.slug })).resolves.toBeTruthy();
  });
});
