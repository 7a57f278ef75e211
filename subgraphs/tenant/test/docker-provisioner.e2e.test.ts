import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PocketBaseConnections, pocketBaseAnswers } from "@kombify/homelab-store";
import { dockerStatus } from "@kombify/simulation-containers";
import { createLogger } from "@kombify/service-core/logging";
import { pocketBaseBinary } from "@kombify/pocketbase-process";
import { connectDatabase } from "@kombify/service-core/database";
import { TEST_SUPERUSER, testDatabaseUrl, testDocker, uniqueSuffix, type TestDocker } from "@kombify/testkit";
import { InstanceDirectory } from "../src/index.js";
import { DockerProvisioner } from "../src/provisioning/docker-provisioner.js";
import { InstanceProvisioning } from "../src/provisioning/instance-provisioning.js";

/** Issue 15's docker provisioner: a real PocketBase container with a volume of its own, answering, then gone. */
describe("the docker instance provisioner", () => {
  let docker: TestDocker;
  let provisioner: DockerProvisioner;
  const made: string[] = [];

  beforeAll(async () => {
    docker = await testDocker();
    if (!docker.available) return;
    provisioner = new DockerProvisioner({
      engine: docker.engine,
      image: "kombify/pocketbase:0.40.4",
      binary: pocketBaseBinary(),
      network: "kombify-instances-test",
      reachBy: "published",
      publishHost: "127.0.0.1",
      superuser: TEST_SUPERUSER,
      labels: { "io.kombify.test": `docker-provisioner-${uniqueSuffix()}` },
      log: createLogger("docker-provisioner-test", "silent"),
    });
  }, 300_000);
  afterAll(async () => {
    for (const handle of made) await provisioner?.remove(handle).catch(() => {});
  });

  it("creates a PocketBase container whose health answers and whose superuser is the configured one, and removes it with its volume", async (context) => {
    if (!docker.available) return context.skip();
    const { engine } = docker;
    const instance = await provisioner.provision({ name: `t-${uniqueSuffix()}`, region: "test", deploymentMode: "SHARED" });
    made.push(instance.handle);
    expect(instance.pocketbaseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await pocketBaseAnswers(instance.pocketbaseUrl)).toBe(true);
    const pb = await new PocketBaseConnections(TEST_SUPERUSER, 30_000).forInstance(instance.pocketbaseUrl);
    expect(pb.authStore.isValid).toBe(true);
    // Its data is on a named volume of its own.
    const inspected = await engine.docker.getContainer(instance.handle).inspect();
    expect(inspected.Mounts).toEqual([expect.objectContaining({ Type: "volume", Name: instance.handle, Destination: "/pb" })]);
    expect(inspected.State.Running).toBe(true);

    await provisioner.remove(instance.handle);
    await expect(engine.docker.getContainer(instance.handle).inspect()).rejects.toSatisfy((error) => dockerStatus(error) === 404);
    await expect(engine.docker.getVolume(instance.handle).inspect()).rejects.toSatisfy((error) => dockerStatus(error) === 404);
    expect(await pocketBaseAnswers(instance.pocketbaseUrl)).toBe(false);
    // Removing again is fine; a handle it did not make is refused.
    await provisioner.remove(instance.handle);
    await expect(provisioner.remove("some-other-container")).rejects.toMatchObject({ extensions: { code: "BAD_USER_INPUT" } });
  }, 300_000);

  it("removes an instance that was provisioned but never registered (its provisioning interrupted by a crash), and nothing registered", async (context) => {
    if (!docker.available) return context.skip();
    const database = connectDatabase(await testDatabaseUrl(), { max: 2 });
    try {
      const instances = new InstanceDirectory(database.db);
      const provisioning = new InstanceProvisioning(database.db, instances, provisioner, { sharedMaxTenants: 50 }, createLogger("docker-provisioner-test", "silent"));
      const registered = await provisioning.provisionInstance({ region: "test", mode: "SHARED" });
      made.push(registered.provisionerHandle!);
      const orphan = await provisioner.provision({ name: `o-${uniqueSuffix()}`, region: "test", deploymentMode: "SHARED" });
      made.push(orphan.handle);
      // Younger than the age given: it may still be on its way to registration elsewhere.
      expect(await provisioning.removeOrphans(60_000)).toEqual([]);
      expect(await provisioning.removeOrphans(0)).toEqual([orphan.handle]);
      expect(await pocketBaseAnswers(orphan.pocketbaseUrl)).toBe(false);
      expect(await pocketBaseAnswers(registered.pocketbaseUrl)).toBe(true);
      await provisioning.retireInstance(registered.id);
      await expect(docker.engine.docker.getVolume(registered.provisionerHandle!).inspect()).rejects.toSatisfy((error) => dockerStatus(error) === 404);
    } finally {
      await database.close();
    }
  }, 300_000);
});
