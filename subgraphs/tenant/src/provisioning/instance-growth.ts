import type { Database } from "@kombify/service-core/database";
import type { Logger } from "@kombify/service-core/logging";
import type { InstanceDirectory } from "../directory/instance-directory.js";
import type { InstanceProvisioning } from "./instance-provisioning.js";

export interface InstanceGrowthSettings {
  /**
   * A SHARED instance counts as filling up at this many tenants (INSTANCE_PROVISION_AT, 45 of 50): a new one is
   * provisioned when the healthy SHARED instances have no more free places than a new instance has above it.
   */
  provisionAt: number;
  /** Places on a SHARED instance (a new one's maxTenants). */
  sharedMaxTenants: number;
  /** The region new SHARED instances are provisioned in. */
  region: string;
  /** Between two checks without any tenant being created (crash recovery, instances turning unhealthy). */
  checkIntervalMs: number;
  /** After a failed provisioning, this replica does not try again for this long. */
  retryAfterFailureMs: number;
}

/** The PostgreSQL advisory lock whose holder is the one replica provisioning (arbitrary, fixed; per database). */
const GROWTH_LOCK_KEY = 1_507_245_045;

/**
 * Automatic growth: when the healthy SHARED instances' free places fall to `sharedMaxTenants - provisionAt`, one new
 * SHARED instance is provisioned, in the background. Exactly one at a time across every replica: the provisioner
 * holds a session-level advisory lock on a connection of its own for as long as it works, re-reads the free places
 * once it holds it (another replica may just have added an instance), and the lock goes with the connection if the
 * process dies, so a crash never leaves growth stuck; the next check of any replica starts over.
 */
export class InstanceGrowth {
  private running: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private failedAt = 0;

  constructor(
    private readonly sql: Database["sql"],
    private readonly instances: InstanceDirectory,
    private readonly provisioning: InstanceProvisioning,
    private readonly settings: InstanceGrowthSettings,
    private readonly log: Logger,
  ) {}

  /** Free places at or below which an instance is provisioned. */
  get lowWater(): number {
    return this.settings.sharedMaxTenants - this.settings.provisionAt;
  }

  start(): void {
    if (!this.provisioning.enabled) return;
    this.timer = setInterval(() => this.nudge(), this.settings.checkIntervalMs);
    this.timer.unref();
    this.nudge();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Checks in the background whether an instance is needed (and provisions it); never throws, never waits. */
  nudge(): void {
    if (!this.provisioning.enabled || this.running) return;
    if (Date.now() - this.failedAt < this.settings.retryAfterFailureMs) return;
    this.running = this.grow()
      .catch((error) => {
        this.failedAt = Date.now();
        this.log.error({ err: error }, "automatic growth could not provision an instance; retrying later");
      })
      .finally(() => {
        this.running = null;
      });
  }

  /**
   * Whether waiting can still bring room: this replica is checking or provisioning, some replica holds the growth
   * lock, or this replica's last attempt did not fail just now (it will try again when nudged).
   */
  async mayBringRoom(): Promise<boolean> {
    if (!this.provisioning.enabled) return false;
    if (this.running || Date.now() - this.failedAt >= this.settings.retryAfterFailureMs) return true;
    return this.inProgress();
  }

  /** Whether some replica is provisioning now (holds the growth lock). */
  async inProgress(): Promise<boolean> {
    const [row] = await this.sql<{ held: boolean }[]>`
      select exists(select 1 from pg_locks where locktype = 'advisory' and granted and classid = 0 and objid = ${GROWTH_LOCK_KEY}
        and objsubid = 1 and database = (select oid from pg_database where datname = current_database())) as held`;
    return Boolean(row?.held);
  }

  private async grow(): Promise<void> {
    if ((await this.instances.sharedRoom()).free > this.lowWater) return;
    const connection = await this.sql.reserve();
    try {
      const [lock] = await connection<{ locked: boolean }[]>`select pg_try_advisory_lock(${GROWTH_LOCK_KEY}) as locked`;
      if (!lock?.locked) return;
      try {
        // Under the lock, as often as needed: the room is read again each time, so what another replica added counts.
        for (let room = await this.instances.sharedRoom(); room.free <= this.lowWater; room = await this.instances.sharedRoom()) {
          this.log.info({ freePlaces: room.free, lowWater: this.lowWater }, "the shared instances are filling up: provisioning another");
          await this.provisioning.provisionInstance({ region: this.settings.region, mode: "SHARED" });
        }
      } finally {
        await connection`select pg_advisory_unlock(${GROWTH_LOCK_KEY})`;
      }
    } finally {
      connection.release();
    }
  }
}
