import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PocketBaseConnections, pocketBaseAnswers } from "@kombify/homelab-store";
import { createLogger } from "@kombify/service-core/logging";
import { pocketBaseBinary } from "@kombify/pocketbase-process";
import { TEST_SUPERUSER, uniqueSuffix } from "@kombify/testkit";
import { ProcessProvisioner } from "../src/provisioning/process-provisioner.js";

/** The process provisioner's instances outlive the service that made them only as data: a restart brings them back, any replica removes them. */
describe("the process instance provisioner", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "kombify-process-provisioner-"));
  // Below the kernel's ephemeral range (32768 and up), where outgoing connections take ports.
  const first = 20_000 + Math.floor(Math.random() * 600) * 20;
  const provisioner = () => new ProcessProvisioner({ binary: pocketBaseBinary(), dataDir, ports: { first, last: first + 19 }, superuser: TEST_SUPERUSER, log: createLogger("process-provisioner-test", "silent") });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("gives each instance its own data and migrations folders and the configured superuser, resumes it after a restart, and removes it from another replica", async () => {
    const before = provisioner();
    const instance = await before.provision({ name: `p-${uniqueSuffix()}`, region: "test", deploymentMode: "SHARED" });
    const folder = join(dataDir, instance.handle);
    expect(existsSync(join(folder, "pocketbase", "data.db"))).toBe(true);
    expect(existsSync(join(folder, "pb_migrations"))).toBe(true);
    const pb = await new PocketBaseConnections(TEST_SUPERUSER, 30_000).forInstance(instance.pocketbaseUrl);
    await pb.collections.create({ name: `kept_${uniqueSuffix().replace(/-/g, "")}`, type: "base", fields: [{ name: "title", type: "text" }] });
    const kept = (await pb.collections.getFullList()).filter((collection) => collection.name.startsWith("kept_")).map((collection) => collection.name);

    // The service stops: its children stop with it, their data stays.
    await before.close();
    expect(await pocketBaseAnswers(instance.pocketbaseUrl)).toBe(false);
    const after = provisioner();
    await after.resume({ handle: instance.handle, pocketbaseUrl: instance.pocketbaseUrl });
    expect(await pocketBaseAnswers(instance.pocketbaseUrl)).toBe(true);
    const again = await new PocketBaseConnections(TEST_SUPERUSER, 30_000).forInstance(instance.pocketbaseUrl);
    expect((await again.collections.getFullList()).map((collection) => collection.name)).toEqual(expect.arrayContaining(kept));

    // Another replica on the machine removes it by the pid it left in its folder.
    await provisioner().remove(instance.handle);
    expect(await pocketBaseAnswers(instance.pocketbaseUrl)).toBe(false);
    expect(existsSync(folder)).toBe(false);
    await after.close();
    await expect(after.remove("../etc")).rejects.toMatchObject({ extensions: { code: "BAD_USER_INPUT" } });
  }, 60_000);
});
