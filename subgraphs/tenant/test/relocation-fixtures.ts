import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { expect } from "vitest";
import type { SignedInCaller } from "@kombify/service-core/auth";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type PocketBase from "pocketbase";
import { namespaceCollections, FEATURE_FLAGS_COLLECTION, SSO_MAPPINGS_COLLECTION } from "@kombify/homelab-store";
import { createLogger } from "@kombify/service-core/logging";
import type { Db } from "@kombify/service-core/database";
import { pocketBaseBinary, startPocketBase, type RunningPocketBase } from "@kombify/launcher";
import { freePort, tables, TEST_SUPERUSER, testNamespaces, testPocketBase, uniqueSuffix, type TestSubgraph } from "@kombify/testkit";
import { InstanceDirectory, TenantDirectory } from "../src/index.js";

/** A PocketBase of its own (its own data and migrations folders), registered as an instance in `region`. */
export interface SpareInstance {
  id: string;
  name: string;
  url: string;
  pb: PocketBase;
  stop(): Promise<void>;
}

export async function startSpareInstance(db: Db, region: string, deploymentMode: "SHARED" | "DEDICATED", maxTenants: number): Promise<SpareInstance> {
  const dataDir = mkdtempSync(join(tmpdir(), "kombify-relocation-"));
  chmodSync(dataDir, 0o755);
  const running: RunningPocketBase = await startPocketBase({
    binary: pocketBaseBinary(),
    dataDir,
    port: await freePort(),
    superuser: TEST_SUPERUSER,
    log: createLogger("relocation-test", "silent"),
  });
  const name = `${region}-${deploymentMode === "SHARED" ? "s" : "d"}-${uniqueSuffix()}`;
  const row = await new InstanceDirectory(db).register({ name, region, deploymentMode, maxTenants, pocketbaseUrl: running.url });
  return {
    id: row.id,
    name,
    url: running.url,
    pb: await testPocketBase().forInstance(running.url),
    async stop() {
      await running.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A tenant placed on the given instance, on `plan` (billing's mirror, as Stripe's webhook would leave it). */
export async function tenantOn(db: Db, instanceId: string, plan: "FREE" | "PRO" | "ENTERPRISE") {
  const suffix = uniqueSuffix();
  const row = await new TenantDirectory(db, testNamespaces({ db })).create({ name: `Mover ${suffix}`, slug: `mv-${suffix}`, zitadelOrgId: `org-${suffix}`, instanceId });
  if (plan !== "FREE") await db.insert(tables.billingSubscriptions).values({ tenantId: row.id, status: "active", planTier: plan });
  return { row, tenant: { id: row.id, slug: row.slug, plan }, orgId: row.zitadelOrgId };
}

/** Runs `work` over `items`, `width` at a time. */
export async function inParallel<T>(items: T[], width: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/**
 * Fills the tenant's namespace with `total` records: a user, then stacks, each with two nodes and two jobs, plus
 * the user's SSO mapping and two flags; returns every record by collection.
 */
export async function seedNamespace(pb: PocketBase, tenant: { id: string; slug: string }, total: number): Promise<Map<string, Record<string, unknown>[]>> {
  const names = namespaceCollections(tenant.slug);
  const written = new Map<string, Record<string, unknown>[]>([names.users, names.stacks, names.nodes, names.jobs].map((name) => [name, []]));
  const password = "seeded-password-1234";
  const user = await pb.collection(names.users).create({ email: `seed-${uniqueSuffix()}@example.test`, password, passwordConfirm: password, name: "Seed", zitadel_sub: `sub-${uniqueSuffix()}` });
  written.get(names.users)!.push(user);
  await pb.collection(SSO_MAPPINGS_COLLECTION).create({ zitadel_sub: user.zitadel_sub, tenant_id: tenant.id, tenant_slug: tenant.slug, user_record: user.id });
  const stacks = Math.floor((total - 1) / 5);
  const stackIds: string[] = [];
  await inParallel(Array.from({ length: stacks }, (_, i) => i), 16, async (i) => {
    const stack = await pb.collection(names.stacks).create({ name: `seed-${i}`, status: "RUNNING", stack_kit_id: "base-homelab" });
    written.get(names.stacks)!.push(stack);
    stackIds.push(stack.id);
  });
  const children: { collection: string; data: Record<string, unknown> }[] = [];
  for (const [i, stack] of stackIds.entries()) {
    for (const n of [1, 2]) children.push({ collection: names.nodes, data: { stack, hostname: `node-${i}-${n}`, address: `10.0.${i % 250}.${n}`, role: "worker", status: "REGISTERED" } });
    for (const n of [1, 2]) {
      children.push({
        collection: names.jobs,
        data: { stack, kind: "DEPLOY", status: "SUCCEEDED", progress: 1, message: `job ${n}`, logs: [`step ${n} of stack ${i}`, { nested: [1, 2] }], started_at: "2026-11-30 10:00:00.000Z" },
      });
    }
  }
  let remaining = total - 1 - stacks - children.length;
  while (remaining-- > 0) children.push({ collection: names.nodes, data: { stack: stackIds[0], hostname: `extra-${remaining}`, address: "10.9.9.9", role: "storage", status: "REGISTERED" } });
  await inParallel(children, 16, async ({ collection, data }) => written.get(collection)!.push(await pb.collection(collection).create(data)));
  return written;
}

/** Every record of the tenant's namespace on this instance, by collection ([] for a collection that is not there). */
export async function recordsOn(pb: PocketBase, tenant: { id: string; slug: string }): Promise<Map<string, Record<string, unknown>[]>> {
  const names = namespaceCollections(tenant.slug);
  const found = new Map<string, Record<string, unknown>[]>();
  for (const name of [names.users, names.stacks, names.nodes, names.jobs]) {
    found.set(name, await pb.collection(name).getFullList({ batch: 1000 }).catch(() => []));
  }
  found.set(FEATURE_FLAGS_COLLECTION, await pb.collection(FEATURE_FLAGS_COLLECTION).getFullList({ filter: pb.filter("namespace = {:ns}", { ns: names.users }) }).catch(() => []));
  found.set(SSO_MAPPINGS_COLLECTION, await pb.collection(SSO_MAPPINGS_COLLECTION).getFullList({ filter: pb.filter("tenant_id = {:t}", { t: tenant.id }) }).catch(() => []));
  return found;
}

/** The collections of any kind on the instance whose names mention the tenant's namespace. */
export async function collectionsOf(pb: PocketBase, slug: string): Promise<string[]> {
  const suffix = slug.replace(/-/g, "_");
  const all = await pb.collections.getFullList({ fields: "name" });
  return all.map((collection) => collection.name as string).filter((name) => name.endsWith(`_${suffix}`));
}

/** A record as a copy must carry it: every field but the ones PocketBase sets itself. */
export function comparable(record: Record<string, unknown>): Record<string, unknown> {
  const { collectionId: _c, collectionName: _n, created: _cr, updated: _u, expand: _e, ...fields } = record;
  return fields;
}

const CREATE_STACK = `mutation($name: String!) { createStack(name: $name, stackKitId: "base-homelab", nodes: [{ hostname: "w-1", address: "10.1.1.1" }]) { id name } }`;

/**
 * A client that keeps creating stacks (`during-0`, `during-1`, …) through the stack subgraph while a tenant moves:
 * each refused write must be UNAVAILABLE and is retried; `landed` holds the names the subgraph acknowledged,
 * `refusals` the refusals' extensions. `stop()` ends it after the write in hand.
 */
export function startStackWriter(stackApi: TestSubgraph, member: SignedInCaller) {
  let writing = true;
  const landed: string[] = [];
  const refusals: Record<string, unknown>[] = [];
  const writer = (async () => {
    for (let i = 0; writing; i++) {
      const name = `during-${i}`;
      for (let attempt = 0; ; attempt++) {
        const { data, errors } = await stackApi.query(CREATE_STACK, { caller: member, variables: { name } });
        if (data?.createStack) break;
        const code = errors?.[0]?.extensions?.code;
        // An earlier attempt landed its stack just before the fence; the copy carried it.
        if (code === "CONFLICT" && attempt > 0) break;
        expect(code, JSON.stringify(errors)).toBe("UNAVAILABLE");
        refusals.push(errors![0]!.extensions!);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      landed.push(name);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    landed,
    refusals,
    stop: async () => {
      writing = false;
      await writer;
    },
  };
}
