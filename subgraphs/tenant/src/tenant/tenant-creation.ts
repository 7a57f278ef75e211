import { AppError, ErrorCode, errors } from "@kombify/service-core/errors";
import type { InstanceDirectory } from "../directory/instance-directory.js";
import { NO_INSTANCE_HAS_ROOM, type NewTenant, type TenantDirectory } from "../directory/tenant-directory.js";
import type { TenantRow } from "../db/schema.js";
import type { InstanceGrowth } from "../provisioning/instance-growth.js";
import type { TenantCreationLimits } from "./tenant-creation-limits.js";

export interface TenantCreationSettings {
  /** How long a creation that finds no instance with room waits for one being provisioned; then UNAVAILABLE. */
  waitForRoomMs: number;
  /** Whether instances are provisioned at all (else a full platform answers UNAVAILABLE at once). */
  provisioning: boolean;
}

/**
 * Placements one replica runs at once. They queue on the instances' row locks in PostgreSQL anyway, so more would
 * only hold more of the pool's connections while they wait, starving every other query of this replica.
 */
const CONCURRENT_PLACEMENTS = 3;

/**
 * Every new tenant comes through here (createTenant, and the gateway's first-launch enrolment): admitted by the
 * rate limits, placed by the tenant directory, and growth told afterwards. A creation waits only when no instance
 * has room at all, for the instance automatic growth is bringing, and for at most `waitForRoomMs`.
 */
export class TenantCreation {
  private placing = 0;
  private readonly queued: (() => void)[] = [];

  constructor(
    private readonly tenants: TenantDirectory,
    private readonly instances: InstanceDirectory,
    private readonly growth: InstanceGrowth,
    private readonly limits: TenantCreationLimits,
    private readonly settings: TenantCreationSettings,
  ) {}

  /** A new tenant for the organisation, with exactly this slug (see TenantDirectory.create). */
  async create(input: NewTenant, clientAddress: string | null): Promise<TenantRow> {
    const admit = this.admitOnce(clientAddress);
    return this.placed(() => this.tenants.create(input, admit));
  }

  /** The organisation's tenant, created if it has none (only a creation counts against the rate limits). */
  async ensureForOrganisation(orgId: string, name: string, clientAddress: string | null): Promise<{ tenant: TenantRow; created: boolean }> {
    const existing = await this.tenants.byOrganisation(orgId);
    if (existing) return { tenant: existing, created: false };
    const admit = this.admitOnce(clientAddress);
    return this.placed(() => this.tenants.ensureForOrganisation(orgId, name, admit));
  }

  /**
   * Admission for one creation, counted when the directory is about to make the tenant (under the organisation's
   * lock: concurrent first launches of one organisation make one tenant and count once), and once only, however
   * often placement is retried while waiting for room.
   */
  private admitOnce(clientAddress: string | null): () => Promise<void> {
    let admitted = false;
    return async () => {
      if (admitted) return;
      await this.limits.admit(clientAddress);
      admitted = true;
    };
  }

  private async placed<T>(create: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.settings.waitForRoomMs;
    for (;;) {
      try {
        const created = await this.oneAtATime(create);
        this.growth.nudge();
        return created;
      } catch (error) {
        // Only "no instance has room" waits; a PocketBase that failed while making the namespace does not.
        if (!isNoRoom(error) || !this.settings.provisioning) throw error;
        this.growth.nudge();
        if (!(await this.roomBefore(deadline))) {
          throw errors.unavailable("No KombiStack instance has room for another tenant, and no new one came into service in time; retry in a moment.");
        }
      }
    }
  }

  /** Runs `work` when fewer than CONCURRENT_PLACEMENTS are running, in arrival order. */
  private async oneAtATime<T>(work: () => Promise<T>): Promise<T> {
    if (this.placing >= CONCURRENT_PLACEMENTS) await new Promise<void>((resolve) => this.queued.push(resolve));
    else this.placing += 1;
    try {
      return await work();
    } finally {
      const next = this.queued.shift();
      if (next) next();
      else this.placing -= 1;
    }
  }

  /**
   * Waits until some instance can take a tenant (true), or `deadline` passes or provisioning has just failed with
   * no replica trying (false: the caller hears UNAVAILABLE at once rather than at the deadline).
   */
  private async roomBefore(deadline: number): Promise<boolean> {
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      if (await this.instances.canTakeTenants()) return true;
      if (!(await this.growth.mayBringRoom())) return false;
      this.growth.nudge();
    }
    return false;
  }
}

function isNoRoom(error: unknown): boolean {
  return error instanceof AppError && error.code === ErrorCode.UNAVAILABLE && error.message === NO_INSTANCE_HAS_ROOM;
}
