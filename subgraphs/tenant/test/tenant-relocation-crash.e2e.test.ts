import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { namespaceCollections } from "@kombify/homelab-store";
import type { SignedInCaller } from "@kombify/service-core/auth";
import { startTestSubgraph, SUBGRAPH_DEFINITIONS, subgraphTestEnv, tables, testContextKeys, uniqueSuffix, type TestSubgraph } from "@kombify/testkit";
import { tenantSubgraph } from "../src/index.js";
import { TenantRelocations } from "../src/relocation/tenant-relocations.js";
import { tenantRelocations } from "../src/db/schema.js";
import { collectionsOf, comparable, recordsOn, seedNamespace, startSpareInstance, tenantOn, startStackWriter, type SpareInstance } from "./relocation-fixtures.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

/** Issue 15, point 4: a mover killed (SIGKILL) in the middle of a copy is resumed by the next, and nothing is lost or duplicated. */
describe("a tenant move whose mover is killed midway", () => {
  const region = `rc-${uniqueSuffix()}`;
  let stackApi: TestSubgraph;
  let restarted: TestSubgraph | undefined;
  const instances: SpareInstance[] = [];

  beforeAll(async () => {
    stackApi = await startTestSubgraph(SUBGRAPH_DEFINITIONS.stack, { env: { JOB_RUNNER_ENABLED: "false" } });
    instances.push(...(await Promise.all([1, 2].map(() => startSpareInstance(stackApi.runtime.db, region, "DEDICATED", 1)))));
  });
  afterAll(async () => {
    await restarted?.stop();
    await stackApi?.stop();
    for (const instance of instances) await instance.stop();
  });

  it("is resumed after a restart: every record once, the writes made meanwhile too, the old namespace gone", async () => {
    const { db } = stackApi.runtime;
    const [from, to] = [instances[0]!, instances[1]!];
    const moving = await tenantOn(db, from.id, "ENTERPRISE");
    const seeded = await seedNamespace(from.pb, moving.tenant, 1000);
    const member: SignedInCaller = { kind: "user", userId: `user-${uniqueSuffix()}`, email: null, name: null, orgId: moving.orgId, orgName: null, roles: [], tenant: moving.tenant };

    const { landed, refusals, stop: stopWriting } = startStackWriter(stackApi, member);
    await expect.poll(() => landed.length, { timeout: 20_000 }).toBeGreaterThanOrEqual(3);

    const move = await new TenantRelocations(db).start({ tenantId: moving.tenant.id, toInstanceId: to.id, reason: "admin" });
    const mover = spawn(process.execPath, ["--import", "tsx", "subgraphs/tenant/test/fixtures/run-tenant-move.ts"], {
      cwd: repoRoot,
      env: { ...process.env, ...(await subgraphTestEnv(await testContextKeys())), RELOCATION_ID: move.id },
      stdio: "ignore",
    });
    const row = async () => (await db.select().from(tenantRelocations).where(eq(tenantRelocations.id, move.id)))[0]!;
    await expect.poll(async () => (await row()).copiedRecords, { timeout: 60_000, interval: 10 }).toBeGreaterThanOrEqual(300);
    mover.kill("SIGKILL");
    await once(mover, "exit");

    // Killed mid-copy: the tenant still lives where it was, its homelab answers UNAVAILABLE, part of it is copied.
    const killedAt = await row();
    expect(killedAt.phase).toBe("copying");
    expect((await db.select().from(tables.tenants).where(eq(tables.tenants.id, moving.tenant.id)))[0]!.instanceId).toBe(from.id);
    const partial = (await recordsOn(to.pb, moving.tenant)).get(namespaceCollections(moving.tenant.slug).nodes)!.length;
    expect(partial).toBeLessThan(seeded.get(namespaceCollections(moving.tenant.slug).nodes)!.length);

    // The tenant service starting again resumes the move.
    restarted = await startTestSubgraph(tenantSubgraph, { env: { RELOCATION_SWEEP_INTERVAL_MS: "500", INSTANCE_PROVISIONER: "none" } });
    await expect.poll(async () => (await row()).phase, { timeout: 60_000, interval: 100 }).toBe("done");
    const afterMove = landed.length;
    await expect.poll(() => landed.length, { timeout: 20_000 }).toBeGreaterThanOrEqual(afterMove + 3);
    await stopWriting();

    expect(refusals.length).toBeGreaterThan(0);
    expect((await db.select().from(tables.tenants).where(eq(tables.tenants.id, moving.tenant.id)))[0]!.instanceId).toBe(to.id);
    const arrived = await recordsOn(to.pb, moving.tenant);
    for (const [collection, records] of seeded) {
      const byId = new Map(arrived.get(collection)!.map((record) => [record.id, record]));
      expect(byId.size, collection).toBe(arrived.get(collection)!.length);
      for (const record of records) expect(comparable(byId.get(record.id as string) ?? {}), `${collection} ${record.id}`).toEqual(comparable(record));
    }
    const stackNames = arrived.get(namespaceCollections(moving.tenant.slug).stacks)!.map((stack) => stack.name as string);
    expect(new Set(stackNames).size).toBe(stackNames.length);
    for (const name of landed) expect(stackNames).toContain(name);
    expect(await collectionsOf(from.pb, moving.tenant.slug)).toEqual([]);
    expect([...(await recordsOn(from.pb, moving.tenant)).values()].flat()).toEqual([]);
  }, 180_000);
});
