import { pocketBaseAnswers } from "@kombify/homelab-store";
import type { Logger } from "@kombify/service-core/logging";
import type { InstanceDirectory } from "../directory/instance-directory.js";

export interface InstanceHealthSettings {
  /** Between two rounds of health checks. */
  intervalMs: number;
  /** Failed checks in a row after which an instance is unhealthy. */
  failuresToUnhealthy: number;
}

/**
 * Polls every KombiStack instance's PocketBase health. After `failuresToUnhealthy` failures in a row an instance is
 * marked unhealthy: no new tenants are placed on it, `instances` shows it, and its tenants' homelab operations
 * answer UNAVAILABLE naming it (the tenant directory carries the flag, and its change event tells every reader at
 * once). The first check it answers again returns it to service. Every replica polls; marking is idempotent.
 */
export class InstanceHealth {
  private readonly failures = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<void> = Promise.resolve();

  constructor(
    private readonly instances: InstanceDirectory,
    private readonly settings: InstanceHealthSettings,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.round = this.check().catch((error) => this.log.error({ err: error }, "could not check the instances' health"));
    }, this.settings.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.round;
  }

  /** One round: every instance asked at once. */
  async check(): Promise<void> {
    const instances = await this.instances.list();
    await Promise.all(
      instances.map(async (instance) => {
        const answers = await pocketBaseAnswers(instance.pocketbaseUrl);
        if (answers) {
          this.failures.delete(instance.id);
          if (!instance.healthy && (await this.instances.setHealthy(instance.id, true))) {
            this.log.info({ instance: instance.name }, "instance answers its health checks again: back in service");
          }
          return;
        }
        const failures = (this.failures.get(instance.id) ?? 0) + 1;
        this.failures.set(instance.id, failures);
        if (failures >= this.settings.failuresToUnhealthy && instance.healthy && (await this.instances.setHealthy(instance.id, false))) {
          this.log.warn({ instance: instance.name, failures }, "instance failed its health checks: no new tenants, its tenants' homelab operations answer UNAVAILABLE");
        }
      }),
    );
  }
}
