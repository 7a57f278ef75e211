import { randomBytes } from "node:crypto";
import { and, eq, isNull, notExists } from "drizzle-orm";
import { pocketBaseAnswers } from "@kombify/homelab-store";
import { isUuid } from "@kombify/service-core/identifiers";
import { errorMessage, errors } from "@kombify/service-core/errors";
import type { Db } from "@kombify/service-core/database";
import type { Logger } from "@kombify/service-core/logging";
import { stackInstances, tenants } from "../db/schema.js";
import type { InstanceDirectory, InstanceSummary } from "../directory/instance-directory.js";
import type { DeploymentMode, InstanceProvisioner } from "./instance-provisioner.js";

export interface ProvisionInstanceRequest {
  /** A region name: 1 to 20 lower-case letters, digits and '-'; it starts the instance's name. */
  region: string;
  mode: DeploymentMode;
}

export interface InstanceProvisioningSettings {
  /** Places on a new SHARED instance (DEDICATED ones hold one tenant). */
  sharedMaxTenants: number;
}

const REGION = /^[a-z0-9][a-z0-9-]{0,19}$/;

/**
 * Makes and retires KombiStack instances through the configured provisioner: `provisionInstance` provisions a
 * PocketBase, checks its health from here and only then registers it (so no tenant is ever placed on one that
 * does not answer); `retireInstance` takes an empty instance out of service and removes its PocketBase. Used by
 * automatic growth, the admin `provisionInstance` mutation, dedicated instances and draining.
 */
export class InstanceProvisioning {
  constructor(
    private readonly db: Db,
    private readonly instances: InstanceDirectory,
    /** null: INSTANCE_PROVISIONER=none, nothing is provisioned. */
    private readonly provisioner: InstanceProvisioner | null,
    private readonly settings: InstanceProvisioningSettings,
    private readonly log: Logger,
  ) {}

  /** Whether instances can be provisioned at all (a provisioner is configured). */
  get enabled(): boolean {
    return this.provisioner !== null;
  }

  /** Provisions a PocketBase, waits until its health answers, registers it; the instance is in service on return. */
  async provisionInstance(request: ProvisionInstanceRequest): Promise<InstanceSummary> {
    if (!REGION.test(request.region)) throw errors.badInput("region", "must be 1 to 20 lower-case letters, digits and '-', starting with a letter or digit.");
    if (request.mode !== "SHARED" && request.mode !== "DEDICATED") throw errors.badInput("mode", "must be SHARED or DEDICATED.");
    const provisioner = this.provisioner;
    if (!provisioner) throw errors.unavailable("No instance provisioner is configured (INSTANCE_PROVISIONER=none), so no instance can be provisioned.");
    const name = `${request.region}-${request.mode === "SHARED" ? "s" : "d"}-${randomBytes(4).toString("hex")}`;
    const startedAt = Date.now();
    let made;
    try {
      made = await provisioner.provision({ name, region: request.region, deploymentMode: request.mode });
    } catch (error) {
      this.log.error({ err: error, instance: name, provisioner: provisioner.kind }, "could not provision an instance");
      throw errors.unavailable(`A new ${request.mode} instance could not be provisioned (${errorMessage(error)}).`);
    }
    try {
      // The provisioner saw it answer from where it runs; what counts is that this service reaches it.
      if (!(await pocketBaseAnswers(made.pocketbaseUrl))) throw new Error(`${made.pocketbaseUrl}/api/health does not answer from the tenant service`);
      const row = await this.instances.register({
        name,
        region: request.region,
        deploymentMode: request.mode,
        maxTenants: request.mode === "SHARED" ? this.settings.sharedMaxTenants : 1,
        pocketbaseUrl: made.pocketbaseUrl,
        provisioner: { kind: provisioner.kind, handle: made.handle },
      });
      this.log.info({ instance: name, provisioner: provisioner.kind, url: made.pocketbaseUrl, ms: Date.now() - startedAt }, "provisioned a new instance");
      return (await this.instances.get(row.id))!;
    } catch (error) {
      await provisioner.remove(made.handle).catch((cleanup) => this.log.warn({ err: cleanup, instance: name }, "could not remove an instance that failed after provisioning"));
      this.log.error({ err: error, instance: name }, "a provisioned instance could not be registered");
      throw errors.unavailable(`A new ${request.mode} instance could not be brought into service (${errorMessage(error)}).`);
    }
  }

  /**
   * Takes an instance that holds no tenant out of service (atomically: no tenant can be placed on it meanwhile),
   * then removes its PocketBase through the provisioner that made it. A `configured` instance is only retired
   * (its PocketBase is not ours to remove). NOT_FOUND for an unknown or already retired id, CONFLICT while it
   * holds tenants.
   */
  async retireInstance(id: string): Promise<InstanceSummary> {
    const instance = isUuid(id) ? await this.instances.get(id) : null;
    if (!instance) throw errors.notFound("StackInstance", id);
    const [retired] = await this.db
      .update(stackInstances)
      .set({ retiredAt: new Date() })
      .where(and(eq(stackInstances.id, id), isNull(stackInstances.retiredAt), notExists(this.db.select({ id: tenants.id }).from(tenants).where(eq(tenants.instanceId, id)))))
      .returning({ id: stackInstances.id });
    if (!retired) {
      const now = await this.instances.get(id);
      if (now && now.tenantCount > 0) throw errors.conflict(`Instance ${instance.name} still holds ${now.tenantCount} tenant(s): move them first.`);
      throw errors.notFound("StackInstance", id);
    }
    if (instance.provisionerHandle && instance.provisioner !== "configured") {
      if (this.provisioner?.kind === instance.provisioner) {
        await this.provisioner.remove(instance.provisionerHandle).catch((error) =>
          this.log.error({ err: error, instance: instance.name }, "retired an instance but could not remove its PocketBase: remove it by hand"),
        );
      } else {
        this.log.warn({ instance: instance.name, madeBy: instance.provisioner, configured: this.provisioner?.kind ?? "none" }, "retired an instance made by another provisioner than the configured one: remove its PocketBase by hand");
      }
    }
    this.log.info({ instance: instance.name }, "retired an instance");
    return (await this.instances.get(id))!;
  }

  /**
   * Removes what the provisioner made but no instance in service names, once older than `olderThanMs` (a service
   * that died between provisioning and registering left it; younger ones may still be on their way to registration
   * in another replica). Returns the handles removed.
   */
  async removeOrphans(olderThanMs: number): Promise<string[]> {
    const provisioner = this.provisioner;
    if (!provisioner?.made) return [];
    const known = new Set((await this.instances.list()).filter((instance) => instance.provisioner === provisioner.kind).map((instance) => instance.provisionerHandle));
    const removed: string[] = [];
    for (const { handle, createdAt } of await provisioner.made()) {
      if (known.has(handle) || Date.now() - createdAt.getTime() < olderThanMs) continue;
      await provisioner.remove(handle).then(
        () => removed.push(handle),
        (error) => this.log.warn({ err: error, handle }, "could not remove an instance no one registered"),
      );
    }
    if (removed.length > 0) this.log.warn({ removed, provisioner: provisioner.kind }, "removed instances that were provisioned but never registered (a provisioning interrupted by a crash)");
    return removed;
  }

  /** At start: brings back the instances this kind of provisioner made earlier, where it needs to (see `resume`). */
  async resumeProvisioned(): Promise<void> {
    const provisioner = this.provisioner;
    if (!provisioner?.resume) return;
    for (const instance of await this.instances.list()) {
      if (instance.provisioner !== provisioner.kind || !instance.provisionerHandle) continue;
      await provisioner.resume({ handle: instance.provisionerHandle, pocketbaseUrl: instance.pocketbaseUrl }).catch((error) =>
        this.log.error({ err: error, instance: instance.name }, "could not bring a provisioned instance back; the health checks keep it out of service"),
      );
    }
  }

  close(): Promise<void> {
    return this.provisioner?.close() ?? Promise.resolve();
  }
}
