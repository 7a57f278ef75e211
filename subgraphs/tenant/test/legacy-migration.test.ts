import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import PocketBase from "pocketbase";
import { connectDatabase, type Database } from "@kombify/service-core/database";
import { createLogger } from "@kombify/service-core/logging";
import { PocketBaseConnections } from "@kombify/homelab-store";
import { InstanceDirectory, TenantDirectory } from "../src/index.js";
import { migrateLegacyCollections } from "../src/directory/legacy-namespace-migration.js";
import { pocketBaseBinary, startPocketBase, type RunningPocketBase } from "@kombify/launcher";
import { freePort, TEST_SUPERUSER, testDatabaseUrl, testNamespaces, uniqueSuffix } from "@kombify/testkit";

/** A KombiStack PocketBase from before multi-tenancy becomes the `default` tenant, data and relations intact. */
describe("migration of an un-namespaced PocketBase into the default tenant", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "kombify-legacy-"));
  let pocketbase: RunningPocketBase;
  let database: Database;
  let superuser: PocketBase;
  const log = createLogger("legacy-test", "silent");

  beforeAll(async () => {
    chmodSync(dataDir, 0o755);
    pocketbase = await startPocketBase({ binary: pocketBaseBinary(), dataDir, port: await freePort(), superuser: TEST_SUPERUSER, log });
    database = connectDatabase(await testDatabaseUrl());
    superuser = new PocketBase(pocketbase.url);
    superuser.autoCancellation(false);
    await superuser.collection("_superusers").authWithPassword(TEST_SUPERUSER.email, TEST_SUPERUSER.password);
    // The pre-multi-tenant layout: PocketBase's own `users` plus KombiStack's stacks, nodes and jobs.
    const stacks = await superuser.collections.create({ name: "stacks", type: "base", fields: [{ name: "name", type: "text" }, { name: "status", type: "text" }] });
    await superuser.collections.create({ name: "nodes", type: "base", fields: [{ name: "hostname", type: "text" }, { name: "stack", type: "relation", collectionId: stacks.id, maxSelect: 1 }] });
    await superuser.collections.create({ name: "jobs", type: "base", fields: [{ name: "stack", type: "relation", collectionId: stacks.id, maxSelect: 1 }, { name: "status", type: "text" }] });
    const stack = await superuser.collection("stacks").create({ name: "legacy-media", status: "RUNNING" });
    await superuser.collection("nodes").create({ hostname: "old-nas", stack: stack.id });
    await superuser.collection("users").create({ email: "old@example.test", password: "legacy-password-1", passwordConfirm: "legacy-password-1" });
  });
  afterAll(async () => {
    await database?.close();
    await pocketbase?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("renames users/stacks/nodes/jobs to *_default, keeps records and relations, and creates the tenant once", async () => {
    const instance = await new InstanceDirectory(database.db).register({
      name: `legacy-${uniqueSuffix()}`,
      region: "local",
      deploymentMode: "DEDICATED",
      maxTenants: 1,
      pocketbaseUrl: pocketbase.url,
    });
    const connections = new PocketBaseConnections(TEST_SUPERUSER);
    const tenants = new TenantDirectory(database.db, testNamespaces({ db: database.db }));
    const pb = await connections.forInstance(pocketbase.url);
    const orgId = `legacy-org-${uniqueSuffix()}`;
    const migration = { pb, instanceUrl: pocketbase.url, instanceId: instance.id, orgId, tenants, log };

    const tenant = await migrateLegacyCollections(migration);
    expect(tenant).toMatchObject({ slug: "default", zitadelOrgId: orgId, instanceId: instance.id });

    for (const legacy of ["users", "stacks", "nodes", "jobs"]) {
      await expect(superuser.collections.getOne(legacy)).rejects.toMatchObject({ status: 404 });
    }
    const [stack] = await superuser.collection("stacks_default").getFullList();
    expect(stack).toMatchObject({ name: "legacy-media", status: "RUNNING" });
    const [node] = await superuser.collection("nodes_default").getFullList({ expand: "stack" });
    expect(node?.expand?.stack?.name).toBe("legacy-media");
    expect((await superuser.collection("users_default").getFullList()).map((user) => user.email)).toEqual(["old@example.test"]);

    const stacksCollection = await superuser.collections.getOne("stacks_default");
    expect(stacksCollection.listRule).toBe('@request.auth.collectionName = "users_default"');
    expect(stacksCollection.fields.map((field: { name: string }) => field.name)).toEqual(expect.arrayContaining(["stack_kit_id", "created"]));

    await expect(migrateLegacyCollections(migration)).resolves.toBeNull();
  });
});
