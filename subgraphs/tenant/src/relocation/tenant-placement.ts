import { and, eq, sql } from "drizzle-orm";
import { errors } from "@kombify/service-core/errors";
import type { Database, Db } from "@kombify/service-core/database";
import type { Logger } from "@kombify/service-core/logging";
import { tenantDirectory } from "../published/tenant-directory.js";
import { isUuid } from "@kombify/service-core/identifiers";
import { tenants, type TenantRelocationRow } from "../db/schema.js";
import { drainingInstanceIds, instanceService, markDraining } from "./instance-draining.js";
import type { InstanceDirectory, InstanceSummary } from "../directory/instance-directory.js";
import type { TenantMover } from "./tenant-mover.js";
import type { RelocationReason, TenantRelocations } from "./tenant-relocations.js";

export type DeploymentMode = "SHARED" | "DEDICATED";

/** The regions whose tenants follow their plan between SHARED and DEDICATED instances: every region, or these. */
export type PlanPlacementRegions = "*" | ReadonlySet<string>;

/** `*`, `none` or a comma-separated list of regions, as PLAN_PLACEMENT_REGIONS says it. */
export function parsePlanPlacementRegions(value: string): PlanPlacementRegions {
  const trimmed = value.trim();
  if (trimmed === "*") return "*";
  if (trimmed === "none") return new Set();
  return new Set(trimmed.split(",").map((region) => region.trim()).filter(Boolean));
}

/** What placement needs of provisioning: a new instance, and an emptied one retired. */
export interface InstanceSupply {
  /** An instance of this mode in this region, registered and healthy on return. */
  provisionInstance(request: { region: string; mode: DeploymentMode }): Promise<InstanceSummary>;
  /** Takes an instance that holds no tenant out of service (and removes its PocketBase where it can). */
  retireInstance(id: string): Promise<unknown>;
}

/** Where a plan's tenants live: ENTERPRISE on a DEDICATED instance of their own, every other plan on a SHARED one. */
export function modeForPlan(plan: string): DeploymentMode {
  return plan === "ENTERPRISE" ? "DEDICATED" : "SHARED";
}

/**
 * Keeps each tenant on the kind of instance its plan calls for, and empties instances on request: chooses the
 * target (an instance in service with room, else a new one from the supply), records the move and has the mover
 * drive it. Plan changes arrive from billing's channel; `sweep` (at start and every interval) resumes moves a
 * dead mover left, catches up on plan changes it missed, and finishes drains.
 */
export class TenantPlacement {
  constructor(
    private readonly db: Db,
    /** A client of its own for the session locks that keep replicas from deciding one tenant's place twice. */
    private readonly sql: Database["sql"],
    private readonly instances: InstanceDirectory,
    private readonly relocations: TenantRelocations,
    private readonly mover: TenantMover,
    private readonly supply: InstanceSupply,
    private readonly log: Logger,
    private readonly planRegions: PlanPlacementRegions = "*",
  ) {}

  private followsPlanIn(region: string): boolean {
    return this.planRegions === "*" || this.planRegions.has(region);
  }

  /**
   * Moves the tenant to the instance. The copy runs in the background; the row returned says where it
   * stands, and `tenantRelocation(id)` how it ends.
   */
  async move(tenantId: string, instanceId: string, reason: RelocationReason, requestedBy: string | null = null): Promise<TenantRelocationRow> {
    const row = await this.relocations.start({ tenantId, toInstanceId: instanceId, reason, requestedBy });
    void this.drive(row);
    return row;
  }

  /** The move to its end, then the retirement of a DEDICATED instance it emptied. */
  private async drive(row: TenantRelocationRow): Promise<TenantRelocationRow | null> {
    try {
      const ended = await this.mover.run(row.id);
      if (ended?.phase === "done") await this.retireIfEmptied(ended.fromInstanceId);
      return ended;
    } catch (error) {
      this.log.error({ err: error, relocationId: row.id }, "a tenant move stopped; the next sweep resumes it");
      return null;
    }
  }

  /**
   * A drained instance left without tenants is retired, and so is a DEDICATED one a provisioner made (one from
   * this deployment's configuration is its operator's to retire, by draining it).
   */
  private async retireIfEmptied(instanceId: string): Promise<void> {
    const instance = await instanceService(this.db, instanceId);
    if (!instance || instance.retired || (instance.mode !== "DEDICATED" && !instance.draining)) return;
    if (!instance.draining && (await this.instances.get(instanceId))?.provisioner === "configured") return;
    const [held] = await this.db.select({ count: sql<number>`count(*)::int` }).from(tenants).where(eq(tenants.instanceId, instanceId));
    const arriving = (await this.relocations.unfinished()).some((move) => move.toInstanceId === instanceId || move.fromInstanceId === instanceId);
    if ((held?.count ?? 0) > 0 || arriving) return;
    await this.supply.retireInstance(instanceId).catch((error) => this.log.warn({ err: error, instanceId }, "could not retire an emptied instance"));
  }

  /**
   * Moves the tenant to the kind of instance its plan calls for, if it is not there (an upgrade to ENTERPRISE, a
   * downgrade from it). One replica decides per tenant; the others skip. Null when nothing was to be done.
   */
  async followPlan(tenantId: string): Promise<TenantRelocationRow | null> {
    return this.exclusively(`tenant-placement:${tenantId}`, async () => {
      const [entry] = await this.db.select().from(tenantDirectory).where(eq(tenantDirectory.tenantId, tenantId));
      if (!entry || entry.moving || !this.followsPlanIn(entry.instanceRegion) || (await this.relocations.unfinishedOf(tenantId))) return null;
      const wanted = modeForPlan(entry.plan);
      if (entry.deploymentMode === wanted) return null;
      const target = await this.instanceWithRoom(wanted, entry.instanceRegion, entry.instanceId);
      this.log.info({ tenantId, plan: entry.plan, to: target.name }, `moving a tenant to a ${wanted} instance for its plan`);
      return this.move(tenantId, target.id, wanted === "DEDICATED" ? "upgrade" : "downgrade");
    });
  }

  /**
   * Takes the instance out of placement and moves each of its tenants to an instance of the kind its plan calls
   * for; once it holds none it is retired (by the last move, or the next sweep). The moves started.
   */
  async drain(instanceId: string, requestedBy: string | null): Promise<TenantRelocationRow[]> {
    if (!isUuid(instanceId) || !(await markDraining(this.db, instanceId))) throw errors.notFound("StackInstance", instanceId);
    return this.continueDrain(instanceId, requestedBy);
  }

  private async continueDrain(instanceId: string, requestedBy: string | null): Promise<TenantRelocationRow[]> {
    const started: TenantRelocationRow[] = [];
    const residents = await this.db.select().from(tenantDirectory).where(eq(tenantDirectory.instanceId, instanceId));
    for (const resident of residents) {
      const pending = await this.relocations.unfinishedOf(resident.tenantId);
      if (pending) {
        started.push(pending);
        continue;
      }
      const target = await this.instanceWithRoom(modeForPlan(resident.plan), resident.instanceRegion, instanceId);
      started.push(await this.move(resident.tenantId, target.id, "drain", requestedBy));
    }
    if (residents.length === 0) await this.retireIfEmptied(instanceId);
    return started;
  }

  /** Resumes moves nobody drives, follows plan changes that were missed, and carries drains on. */
  async sweep(): Promise<void> {
    for (const row of await this.relocations.unfinished()) await this.drive(row);
    for (const { tenantId } of await this.misplaced()) {
      await this.followPlan(tenantId).catch((error) => this.log.warn({ err: error, tenantId }, "could not move a tenant to the instance its plan calls for"));
    }
    for (const id of await drainingInstanceIds(this.db)) {
      await this.continueDrain(id, null).catch((error) => this.log.warn({ err: error, instanceId: id }, "could not carry on draining an instance"));
    }
  }

  /** Tenants on another kind of instance than their plan calls for, not moving. */
  private async misplaced(): Promise<{ tenantId: string }[]> {
    if (this.planRegions !== "*" && this.planRegions.size === 0) return [];
    const rows = await this.db
      .select({ tenantId: tenantDirectory.tenantId, region: tenantDirectory.instanceRegion })
      .from(tenantDirectory)
      .where(and(eq(tenantDirectory.moving, false), sql`(${tenantDirectory.plan} = 'ENTERPRISE') <> (${tenantDirectory.deploymentMode} = 'DEDICATED')`));
    return rows.filter((row) => this.followsPlanIn(row.region));
  }

  /**
   * The in-service instance of this mode in the tenant's region with the most room, else a new one from the
   * supply. A tenant never leaves its region by itself (its data stays where it was placed).
   */
  private async instanceWithRoom(mode: DeploymentMode, region: string, excluding: string): Promise<InstanceSummary> {
    const draining = new Set(await drainingInstanceIds(this.db));
    // tenantCount counts the tenants on their way to an instance too.
    const roomOf = (instance: InstanceSummary) => instance.maxTenants - instance.tenantCount;
    const best = (await this.instances.list())
      .filter((instance) => instance.deploymentMode === mode && instance.region === region && instance.healthy && instance.id !== excluding)
      .filter((instance) => !draining.has(instance.id) && roomOf(instance) > 0)
      .sort((a, b) => roomOf(b) / b.maxTenants - roomOf(a) / a.maxTenants)[0];
    return best ?? this.supply.provisionInstance({ region, mode });
  }

  /** Runs `work` holding a session lock on `key`; null without running it when another replica holds it. */
  private async exclusively<T>(key: string, work: () => Promise<T | null>): Promise<T | null> {
    const session = await this.sql.reserve();
    try {
      const [lock] = await session<{ held: boolean }[]>`select pg_try_advisory_lock(hashtext(${key})) as held`;
      if (!lock?.held) return null;
      try {
        return await work();
      } finally {
        await session`select pg_advisory_unlock(hashtext(${key}))`.catch(() => {});
      }
    } finally {
      session.release();
    }
  }
}

/**
 * The supply while no provisioning service is wired: an instance in service of the mode asked for with room, or
 * UNAVAILABLE saying none is; retiring leaves the instance registered (nothing here removes a PocketBase).
 */
export function registeredInstancesOnly(db: Db, instances: InstanceDirectory, log: Logger): InstanceSupply {
  return {
    async provisionInstance({ region, mode }) {
      const draining = new Set(await drainingInstanceIds(db));
      const free = (await instances.list()).find(
        (instance) => instance.deploymentMode === mode && instance.region === region && instance.healthy && !draining.has(instance.id) && instance.tenantCount < instance.maxTenants,
      );
      if (!free) throw errors.unavailable(`No ${mode} instance in ${region} has room, and this deployment provisions none: register one first.`);
      return free;
    },
    async retireInstance(id) {
      log.info({ instanceId: id }, "an instance is empty; nothing here provisions instances, so it stays registered");
    },
  };
}
