import { afterAll, beforeAll, describe, expect, it } from "vitest";
import PocketBase from "pocketbase";
import { eq, sql } from "drizzle-orm";
import { callPocketBase, FEATURE_FLAGS_COLLECTION, namespaceCollections, NamespaceResolver } from "@kombify/homelab-store";
import { Role, type SignedInCaller, type TenantRef } from "@kombify/service-core/auth";
import { startTestSubgraph, SUBGRAPH_DEFINITIONS, tables, testPocketBase, uniqueSuffix, type TestSubgraph } from "@kombify/testkit";
import { tenantSubgraph } from "../src/index.js";
import { instanceLookup } from "../src/published/tenant-directory.js";
import { collectionsOf, comparable, recordsOn, seedNamespace, startSpareInstance, tenantOn, startStackWriter, type SpareInstance } from "./relocation-fixtures.js";

const MOVE = `mutation($t: ID!, $i: ID!) { moveTenant(tenantId: $t, instanceId: $i) { id phase tenantId fromInstanceId toInstanceId } }`;
const DRAIN = `mutation($id: ID!) { drainInstance(id: $id) { id phase tenantId fromInstanceId } }`;
const RELOCATION = `query($id: ID!) { tenantRelocation(id: $id) { id phase copiedRecords checksum error } }`;

function memberOf(tenant: TenantRef, orgId: string, roles: Role[] = []): SignedInCaller {
  return { kind: "user", userId: `user-${uniqueSuffix()}`, email: "someone@example.test", name: "Someone", orgId, orgName: null, roles, tenant };
}

/**
 * Issue 15, point 4: a tenant's namespace moves between KombiStack instances (admin moves, plan changes, drains)
 * with every record, while its writes answer UNAVAILABLE with a retry hint and never land behind the move.
 */
describe("moving tenants between instances", () => {
  const region = `rl-${uniqueSuffix()}`;
  let tenantApi: TestSubgraph;
  let stackApi: TestSubgraph;
  let identityApi: TestSubgraph;
  let home: SpareInstance;
  const dedicated: SpareInstance[] = [];
  let admin: SignedInCaller;
  let big: Awaited<ReturnType<typeof tenantOn>>;

  beforeAll(async () => {
    tenantApi = await startTestSubgraph(tenantSubgraph, {
      env: { PLAN_PLACEMENT_REGIONS: region, RELOCATION_SWEEP_INTERVAL_MS: "1000", INSTANCE_PROVISIONER: "none" },
    });
    stackApi = await startTestSubgraph(SUBGRAPH_DEFINITIONS.stack, { env: { JOB_RUNNER_ENABLED: "false" } });
    identityApi = await startTestSubgraph(SUBGRAPH_DEFINITIONS.identity);
    const { db } = tenantApi.runtime;
    // SHARED, and half full at once: other test files' new tenants go to the roomier instance they share.
    home = await startSpareInstance(db, region, "SHARED", 6);
    await tenantOn(db, home.id, "FREE");
    dedicated.push(...(await Promise.all([1, 2, 3].map(() => startSpareInstance(db, region, "DEDICATED", 1)))));
    const platform = await tenantOn(db, home.id, "FREE");
    admin = memberOf(platform.tenant, platform.orgId, [Role.PLATFORM_ADMIN]);
    big = await tenantOn(db, dedicated[0]!.id, "ENTERPRISE");
  });
  afterAll(async () => {
    await stackApi?.stop();
    await identityApi?.stop();
    await tenantApi?.stop();
    for (const instance of [home, ...dedicated]) await instance?.stop();
  });

  const relocation = async (id: string) => (await tenantApi.query(RELOCATION, { caller: admin, variables: { id } })).data.tenantRelocation;
  const finished = (id: string) =>
    expect.poll(async () => (await relocation(id)).phase, { timeout: 60_000, interval: 100 }).toMatch(/^(DONE|ROLLED_BACK)$/);
  const instanceOf = async (tenantId: string) =>
    (await tenantApi.runtime.db.select().from(tables.tenants).where(eq(tables.tenants.id, tenantId)))[0]!.instanceId;

  it("moves a tenant with 1,000 records while a client keeps writing: every record once, the writes made meanwhile too, the old namespace gone", async () => {
    const [from, to] = [dedicated[0]!, dedicated[1]!];
    const seeded = await seedNamespace(from.pb, big.tenant, 1000);
    const users = namespaceCollections(big.tenant.slug).users;
    await from.pb.collection(FEATURE_FLAGS_COLLECTION).create({ namespace: users, key: "seed-flag", enabled: true });
    const member = memberOf(big.tenant, big.orgId);

    // A writer in another process that resolved the old instance just before the move (and never hears of it).
    const stale = await new NamespaceResolver(instanceLookup(tenantApi.runtime.db), testPocketBase(), 600_000).resolve(big.tenant);

    const { landed, refusals, stop: stopWriting } = startStackWriter(stackApi, member);
    await expect.poll(() => landed.length, { timeout: 20_000 }).toBeGreaterThanOrEqual(3);

    const started = await tenantApi.query(MOVE, { caller: admin, variables: { t: big.tenant.id, i: to.id } });
    expect(started.errors).toBeUndefined();
    const move = started.data.moveTenant;
    expect(move).toMatchObject({ tenantId: big.tenant.id, fromInstanceId: from.id, toInstanceId: to.id });

    await expect.poll(async () => (await relocation(move.id)).phase, { timeout: 30_000, interval: 20 }).not.toBe("FENCING");
    const staleWrite = callPocketBase(stale.instanceUrl, () => stale.pb.collection(stale.collections.stacks).create({ name: "stale", status: "DRAFT", stack_kit_id: "base-homelab" }));
    await expect(staleWrite).rejects.toMatchObject({ extensions: { code: "UNAVAILABLE", retryAfter: 5 } });

    await finished(move.id);
    const afterMove = landed.length;
    await expect.poll(() => landed.length, { timeout: 20_000 }).toBeGreaterThanOrEqual(afterMove + 3);
    await stopWriting();

    const done = await relocation(move.id);
    expect(done).toMatchObject({ phase: "DONE", error: null, checksum: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(done.copiedRecords).toBeGreaterThanOrEqual(1000);
    expect(await instanceOf(big.tenant.id)).toBe(to.id);
    // The writes were told to come back, with a hint when.
    expect(refusals.length).toBeGreaterThan(0);
    expect(refusals.every((extensions) => extensions.code === "UNAVAILABLE")).toBe(true);
    expect(refusals.some((extensions) => extensions.retryAfter === 5)).toBe(true);

    const arrived = await recordsOn(to.pb, big.tenant);
    for (const [collection, records] of seeded) {
      const byId = new Map(arrived.get(collection)!.map((record) => [record.id, record]));
      expect(byId.size, collection).toBe(arrived.get(collection)!.length);
      for (const record of records) {
        const copy = byId.get(record.id as string);
        expect(copy, `${collection} ${record.id}`).toBeDefined();
        expect(comparable(copy!)).toEqual(comparable(record));
      }
    }
    const stackNames = arrived.get(namespaceCollections(big.tenant.slug).stacks)!.map((stack) => stack.name as string);
    expect(new Set(stackNames).size).toBe(stackNames.length);
    for (const name of landed) expect(stackNames.filter((each) => each === name)).toHaveLength(1);
    expect(stackNames).not.toContain("stale");
    expect(arrived.get(FEATURE_FLAGS_COLLECTION)!.map((flag) => flag.key)).toContain("seed-flag");
    expect(arrived.get("_sso_mappings")).toHaveLength(1);

    // The old namespace is gone, fence and all, and so are its rows in the platform collections.
    expect(await collectionsOf(from.pb, big.tenant.slug)).toEqual([]);
    const left = await recordsOn(from.pb, big.tenant);
    expect([...left.values()].flat()).toEqual([]);

    const audit = await tenantApi.runtime.db.select().from(tables.auditLog).where(eq(tables.auditLog.action, "tenant.move"));
    expect(audit).toContainEqual(expect.objectContaining({ tenantId: big.tenant.id, actorUserId: admin.userId, target: `tenant:${big.tenant.id}` }));
  }, 120_000);

  it("moves a tenant to a DEDICATED instance when it upgrades to ENTERPRISE, and back to a SHARED one when it downgrades", async () => {
    const { db } = tenantApi.runtime;
    const upgrading = await tenantOn(db, home.id, "FREE");
    const seeded = await seedNamespace(home.pb, upgrading.tenant, 40);
    const owner = memberOf(upgrading.tenant, upgrading.orgId);
    const launch = async () => {
      const { data, errors } = await identityApi.query("mutation { launchHomelab { token redirectUrl } }", { caller: owner });
      expect(errors).toBeUndefined();
      return data.launchHomelab as { token: string; redirectUrl: string };
    };
    const before = await launch();
    expect(before.redirectUrl).toContain(home.url);

    await db.insert(tables.billingSubscriptions).values({ tenantId: upgrading.tenant.id, status: "active", planTier: "ENTERPRISE" });
    await db.execute(sql`select pg_notify('kombify_plan_changed', ${upgrading.tenant.id})`);
    const free = dedicated.filter((instance) => instance !== dedicated[1]).map((instance) => instance.id);
    await expect.poll(() => instanceOf(upgrading.tenant.id), { timeout: 30_000, interval: 100 }).toBeOneOf(free);
    const upgradedTo = await instanceOf(upgrading.tenant.id);
    await expect.poll(async () => collectionsOf(home.pb, upgrading.tenant.slug), { timeout: 30_000 }).toEqual([]);
    const there = await recordsOn(dedicated.find((instance) => instance.id === upgradedTo)!.pb, upgrading.tenant);
    for (const [collection, records] of seeded) expect(there.get(collection)!.map((record) => record.id)).toEqual(expect.arrayContaining(records.map((record) => record.id)));

    // The token launched before the move was the old instance's; the next launch gives one of the new instance.
    const after = await launch();
    const newUrl = dedicated.find((instance) => instance.id === upgradedTo)!.url;
    expect(after.redirectUrl).toContain(newUrl);
    const users = namespaceCollections(upgrading.tenant.slug).users;
    const signedIn = async (token: string) => {
      const client = new PocketBase(newUrl);
      client.authStore.save(token, null);
      return client.collection(users).authRefresh().then(() => true, () => false);
    };
    expect(await signedIn(after.token)).toBe(true);
    expect(await signedIn(before.token)).toBe(false);

    await db.delete(tables.billingSubscriptions).where(eq(tables.billingSubscriptions.tenantId, upgrading.tenant.id));
    await db.execute(sql`select pg_notify('kombify_plan_changed', ${upgrading.tenant.id})`);
    await expect.poll(() => instanceOf(upgrading.tenant.id), { timeout: 30_000, interval: 100 }).toBe(home.id);
    const back = await recordsOn(home.pb, upgrading.tenant);
    for (const [collection, records] of seeded) expect(back.get(collection)!.map((record) => record.id)).toEqual(expect.arrayContaining(records.map((record) => record.id)));
    // The namespace user the first launch made, and its SSO mapping, came along both ways.
    expect(back.get(users)).toHaveLength(2);
    expect(back.get("_sso_mappings")).toHaveLength(2);
  });

  it("lets a deploy running when its tenant moves finish on the new instance: its writes wait for the move, then follow it", async () => {
    const { db } = tenantApi.runtime;
    // A region no plan change moves tenants in: only this test's move happens here.
    const elsewhere = `rd-${uniqueSuffix()}`;
    const [from, to] = await Promise.all([startSpareInstance(db, elsewhere, "DEDICATED", 1), startSpareInstance(db, elsewhere, "DEDICATED", 1)]);
    dedicated.push(from, to);
    const deployer = await tenantOn(db, from.id, "ENTERPRISE");
    const member = memberOf(deployer.tenant, deployer.orgId);
    const runner = await startTestSubgraph(SUBGRAPH_DEFINITIONS.stack, { env: { DRY_RUN_STEP_DELAY_MS: "400" } });
    try {
      const created = await runner.query(
        `mutation { createStack(name: "media", stackKitId: "base-homelab", nodes: [{ hostname: "a", address: "10.2.0.1" }, { hostname: "b", address: "10.2.0.2" }]) { id } }`,
        { caller: member },
      );
      expect(created.errors).toBeUndefined();
      const deployed = await runner.query(`mutation { deployStack(id: "${created.data.createStack.id}") { id } }`, { caller: member });
      expect(deployed.errors).toBeUndefined();
      const jobId = deployed.data.deployStack.id as string;
      const job = async () => (await runner.query(`{ job(id: "${jobId}") { status progress logs } }`, { caller: member })).data?.job;
      await expect.poll(async () => (await job())?.progress ?? 0, { timeout: 30_000, interval: 50 }).toBeGreaterThan(0);

      const started = await tenantApi.query(MOVE, { caller: admin, variables: { t: deployer.tenant.id, i: to.id } });
      expect(started.errors).toBeUndefined();
      await finished(started.data.moveTenant.id);
      expect((await relocation(started.data.moveTenant.id)).phase).toBe("DONE");

      await expect.poll(async () => (await job())?.status, { timeout: 60_000, interval: 200 }).toBe("SUCCEEDED");
      expect(await job()).toMatchObject({ progress: 1 });
      const [record] = (await recordsOn(to.pb, deployer.tenant)).get(namespaceCollections(deployer.tenant.slug).jobs)!;
      expect(record).toMatchObject({ id: jobId, status: "SUCCEEDED" });
      expect(await collectionsOf(from.pb, deployer.tenant.slug)).toEqual([]);
    } finally {
      await runner.stop();
    }
  }, 90_000);

  it("drains an instance: its tenants move to another instance of the kind their plan calls for, and it takes no tenant again", async () => {
    const { db } = tenantApi.runtime;
    const draining = dedicated[2]!;
    const resident = await tenantOn(db, draining.id, "ENTERPRISE");
    const seeded = await seedNamespace(draining.pb, resident.tenant, 30);
    const { data, errors } = await tenantApi.query(DRAIN, { caller: admin, variables: { id: draining.id } });
    expect(errors).toBeUndefined();
    expect(data.drainInstance).toEqual([expect.objectContaining({ tenantId: resident.tenant.id, fromInstanceId: draining.id })]);
    await finished(data.drainInstance[0].id);
    expect((await relocation(data.drainInstance[0].id)).phase).toBe("DONE");
    // The one DEDICATED instance in the region with room: the first, which the big tenant left.
    expect(await instanceOf(resident.tenant.id)).toBe(dedicated[0]!.id);
    const there = await recordsOn(dedicated[0]!.pb, resident.tenant);
    for (const [collection, records] of seeded) expect(there.get(collection)!.map((record) => record.id).sort()).toEqual(records.map((record) => record.id).sort());
    expect(await collectionsOf(draining.pb, resident.tenant.slug)).toEqual([]);

    // Drained: no move lands on it.
    const refused = await tenantApi.query(MOVE, { caller: admin, variables: { t: resident.tenant.id, i: draining.id } });
    expect(refused.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    const audit = await db.select().from(tables.auditLog).where(eq(tables.auditLog.target, `instance:${draining.id}`));
    expect(audit).toEqual([expect.objectContaining({ action: "instance.drain", actorUserId: admin.userId })]);
  });

  it("refuses every caller but platform admins, and moves nowhere it should not", async () => {
    const owner = memberOf(big.tenant, big.orgId, [Role.TENANT_ADMIN]);
    const other = await tenantOn(tenantApi.runtime.db, home.id, "FREE");
    const stranger = memberOf(other.tenant, other.orgId, [Role.TENANT_ADMIN]);
    for (const caller of [memberOf(big.tenant, big.orgId), owner, stranger]) {
      const moved = await tenantApi.query(MOVE, { caller, variables: { t: big.tenant.id, i: home.id } });
      expect(moved.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
      const drained = await tenantApi.query(DRAIN, { caller, variables: { id: home.id } });
      expect(drained.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    }
    expect(await instanceOf(big.tenant.id)).not.toBe(home.id);

    const unknownTenant = await tenantApi.query(MOVE, { caller: admin, variables: { t: "not-a-tenant", i: home.id } });
    expect(unknownTenant.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    const unknownInstance = await tenantApi.query(MOVE, { caller: admin, variables: { t: other.tenant.id, i: crypto.randomUUID() } });
    expect(unknownInstance.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    const sameInstance = await tenantApi.query(MOVE, { caller: admin, variables: { t: other.tenant.id, i: home.id } });
    expect(sameInstance.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    // A DEDICATED instance holds one tenant: the one there leaves no room.
    const crowded = await tenantApi.query(MOVE, { caller: admin, variables: { t: other.tenant.id, i: await instanceOf(big.tenant.id) } });
    expect(crowded.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    // Refused moves are audited too, with why.
    const refusedMoves = await tenantApi.runtime.db.select().from(tables.auditLog).where(eq(tables.auditLog.target, `tenant:${other.tenant.id}`));
    expect(refusedMoves.filter((entry) => entry.action === "tenant.move.failed")).toHaveLength(3);
  });
});
