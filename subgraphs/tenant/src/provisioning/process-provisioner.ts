import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { pocketBaseAnswers } from "@kombify/homelab-store";
import { startPocketBase, type RunningPocketBase } from "@kombify/pocketbase-process";
import { errors } from "@kombify/service-core/errors";
import type { Logger } from "@kombify/service-core/logging";
import type { InstanceProvisioner, ProvisionedInstance, ProvisionRequest } from "./instance-provisioner.js";

export interface ProcessProvisionerSettings {
  /** The PocketBase executable (`pocketBaseBinary()`). */
  binary: string;
  /** Every instance gets its own folder here: `<dataDir>/<name>/pocketbase` (data) and `<dataDir>/<name>/pb_migrations`. */
  dataDir: string;
  /** Ports to serve instances on (127.0.0.1), first and last included. */
  ports: { first: number; last: number };
  superuser: { email: string; password: string };
  log: Logger;
}

/** A handle is the instance's folder name under `dataDir`: the instance's own name, nothing that could leave it. */
const HANDLE = /^[a-z0-9-]{2,63}$/;
const PID_FILE = "pocketbase.pid";

/**
 * KombiStack instances as PocketBase child processes of this service, on this machine (`pnpm start`, tests):
 * each with the superuser from configuration and its own data and migrations folders. The handle is the folder's
 * name; the child's pid is written in it, so any replica on the machine can stop it, and a restarted service
 * brings its instances back on their old ports (`resume`).
 */
export class ProcessProvisioner implements InstanceProvisioner {
  readonly kind = "process";
  private readonly running = new Map<string, RunningPocketBase>();
  private readonly portsTaken = new Set<number>();
  private readonly portOf = new Map<string, number>();

  constructor(private readonly settings: ProcessProvisionerSettings) {}

  async provision(request: ProvisionRequest): Promise<ProvisionedInstance> {
    const handle = assertHandle(request.name);
    const folder = join(this.settings.dataDir, handle);
    if (existsSync(folder)) throw errors.conflict(`An instance folder named ${handle} exists already.`);
    // A port free when asked can be taken before PocketBase binds it (by anything on the machine): try another.
    for (let attempt = 1; ; attempt++) {
      const port = await this.freePort();
      try {
        await this.start(handle, port);
        return { pocketbaseUrl: `http://127.0.0.1:${port}`, handle };
      } catch (error) {
        rmSync(folder, { recursive: true, force: true });
        if (attempt >= 3) throw error;
        this.settings.log.warn({ err: error, instance: handle, port }, "PocketBase did not start on this port; trying another");
      }
    }
  }

  async resume(instance: { handle: string; pocketbaseUrl: string }): Promise<void> {
    const handle = assertHandle(instance.handle);
    if (this.running.has(handle) || (await pocketBaseAnswers(instance.pocketbaseUrl))) return;
    if (!existsSync(join(this.settings.dataDir, handle))) throw new Error(`its folder ${join(this.settings.dataDir, handle)} is gone`);
    await this.start(handle, Number(new URL(instance.pocketbaseUrl).port));
  }

  async remove(handle: string): Promise<void> {
    assertHandle(handle);
    const folder = join(this.settings.dataDir, handle);
    const child = this.running.get(handle);
    const port = this.portOf.get(handle);
    if (port !== undefined) {
      this.portsTaken.delete(port);
      this.portOf.delete(handle);
    }
    if (child) {
      await child.stop();
      this.running.delete(handle);
    } else {
      await stopByPidFile(join(folder, PID_FILE));
    }
    rmSync(folder, { recursive: true, force: true });
  }

  async made(): Promise<{ handle: string; createdAt: Date }[]> {
    if (!existsSync(this.settings.dataDir)) return [];
    return readdirSync(this.settings.dataDir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && HANDLE.test(entry.name))
      .map((entry) => {
        // Where the file system keeps no birth time, the folder's last change (its pid file is written last) stands in.
        const stat = statSync(join(this.settings.dataDir, entry.name));
        return { handle: entry.name, createdAt: new Date(Math.max(stat.birthtimeMs, stat.mtimeMs)) };
      });
  }

  async close(): Promise<void> {
    await Promise.all([...this.running.values()].map((child) => child.stop()));
    this.running.clear();
  }

  private async start(handle: string, port: number): Promise<void> {
    const folder = join(this.settings.dataDir, handle);
    const { binary, superuser, log } = this.settings;
    this.portsTaken.add(port);
    const child = await startPocketBase({
      binary,
      dataDir: folder,
      port,
      superuser,
      log: log.child({ instance: handle }),
      onUnexpectedExit: (description) => {
        this.running.delete(handle);
        log.warn({ instance: handle }, `${description}: the health checks will take the instance out of service`);
      },
    });
    if (child.pid) writeFileSync(join(folder, PID_FILE), String(child.pid));
    this.running.set(handle, child);
    this.portOf.set(handle, port);
  }

  /** A port of the range that nothing listens on (and that this provisioner has not handed out). */
  private async freePort(): Promise<number> {
    const { first, last } = this.settings.ports;
    for (let port = first; port <= last; port++) {
      if (this.portsTaken.has(port)) continue;
      if (await canListen(port)) {
        this.portsTaken.add(port);
        return port;
      }
    }
    throw errors.unavailable(`No free port left for another instance in ${first}-${last} (INSTANCE_PROCESS_PORTS).`);
  }
}

function assertHandle(handle: string): string {
  if (!HANDLE.test(handle)) throw errors.badInput("handle", "must be 2 to 63 lower-case letters, digits and '-'.");
  return handle;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** Another replica's child (same machine): SIGTERM by its pid file, then SIGKILL if it has not gone within 5 s. */
async function stopByPidFile(file: string): Promise<void> {
  if (!existsSync(file)) return;
  const pid = Number(readFileSync(file, "utf8"));
  if (!Number.isInteger(pid) || pid <= 1) return;
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  process.kill(pid, "SIGTERM");
  for (let waited = 0; waited < 5000 && alive(); waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
  if (alive()) process.kill(pid, "SIGKILL");
}
