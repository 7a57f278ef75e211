import { and, asc, eq, notInArray } from "drizzle-orm";
import { errors } from "@kombify/service-core/errors";
import { isUuid } from "@kombify/service-core/identifiers";
import { isUniqueViolation, type Db } from "@kombify/service-core/database";
import { tenantCount } from "../directory/instance-directory.js";
import { instanceService } from "./instance-draining.js";
import { stackInstances, tenantRelocations, tenants, type RelocationPhase, type TenantRelocationRow } from "../db/schema.js";

export type RelocationReason = "admin" | "upgrade" | "downgrade" | "drain";

const FINISHED: RelocationPhase[] = ["done", "rolled_back"];

/** The moves of tenants between instances, as rows whose phase the mover advances. */
export class TenantRelocations {
  constructor(private readonly db: Db) {}

  /**
   * Records a move of the tenant to `toInstanceId`, reserving its place there: the target's row is locked while
   * its tenants and the tenants already on their way are counted, so no instance is promised beyond maxTenants.
   * CONFLICT when the tenant is already moving or already there, or the target has no room or is out of service.
   */
  async start(input: { tenantId: string; toInstanceId: string; reason: RelocationReason; requestedBy?: string | null }): Promise<TenantRelocationRow> {
    if (!isUuid(input.tenantId)) throw errors.notFound("Tenant", input.tenantId);
    if (!isUuid(input.toInstanceId)) throw errors.notFound("StackInstance", input.toInstanceId);
    try {
      return await this.db.transaction(async (tx) => {
        const [tenant] = await tx.select().from(tenants).where(eq(tenants.id, input.tenantId)).for("update");
        if (!tenant) throw errors.notFound("Tenant", input.tenantId);
        if (tenant.instanceId === input.toInstanceId) throw errors.conflict("The tenant already lives on that instance.");
        await tx.select({ id: stackInstances.id }).from(stackInstances).where(eq(stackInstances.id, input.toInstanceId)).for("update");
        const [target] = await tx
          .select({ healthy: stackInstances.healthy, maxTenants: stackInstances.maxTenants, count: tenantCount })
          .from(stackInstances)
          .where(eq(stackInstances.id, input.toInstanceId));
        const service = await instanceService(tx, input.toInstanceId);
        if (!target || !service) throw errors.notFound("StackInstance", input.toInstanceId);
        if (service.retired || service.draining) throw errors.conflict("That instance is being drained or retired: it takes no tenants.");
        if (!target.healthy) throw errors.conflict("That instance is not answering its health checks: it takes no tenants now.");
        if (target.count >= target.maxTenants) throw errors.conflict(`That instance has no room: ${target.count} of ${target.maxTenants} places are taken.`);
        const [row] = await tx
          .insert(tenantRelocations)
          .values({ tenantId: tenant.id, fromInstanceId: tenant.instanceId, toInstanceId: input.toInstanceId, reason: input.reason, requestedBy: input.requestedBy ?? null })
          .returning();
        return row!;
      });
    } catch (error) {
      if (isUniqueViolation(error, "tenant_relocations_one_unfinished_per_tenant")) throw errors.conflict("The tenant is already being moved.");
      throw error;
    }
  }

  async get(id: string): Promise<TenantRelocationRow | null> {
    if (!isUuid(id)) return null;
    const [row] = await this.db.select().from(tenantRelocations).where(eq(tenantRelocations.id, id));
    return row ?? null;
  }

  /** The tenant's unfinished move, if any. */
  async unfinishedOf(tenantId: string): Promise<TenantRelocationRow | null> {
    const [row] = await this.db
      .select()
      .from(tenantRelocations)
      .where(and(eq(tenantRelocations.tenantId, tenantId), notInArray(tenantRelocations.phase, FINISHED)));
    return row ?? null;
  }

  /** Every move not yet done or rolled back, oldest first: what a mover resumes after a crash. */
  unfinished(): Promise<TenantRelocationRow[]> {
    return this.db.select().from(tenantRelocations).where(notInArray(tenantRelocations.phase, FINISHED)).orderBy(asc(tenantRelocations.createdAt));
  }

  /** Moves the row from `from` to `to`; false when it was no longer in `from` (another mover got there first). */
  async advance(id: string, from: RelocationPhase, to: RelocationPhase, fields: { checksum?: string; error?: string | null } = {}): Promise<boolean> {
    const finished = FINISHED.includes(to) ? { finishedAt: new Date() } : {};
    const changed = await this.db
      .update(tenantRelocations)
      .set({ phase: to, updatedAt: new Date(), ...fields, ...finished })
      .where(and(eq(tenantRelocations.id, id), eq(tenantRelocations.phase, from)))
      .returning({ id: tenantRelocations.id });
    return changed.length > 0;
  }

  async recordProgress(id: string, copiedRecords: number): Promise<void> {
    await this.db.update(tenantRelocations).set({ copiedRecords, updatedAt: new Date() }).where(eq(tenantRelocations.id, id));
  }

  async recordError(id: string, error: string): Promise<void> {
    await this.db.update(tenantRelocations).set({ error: error.slice(0, 2000), updatedAt: new Date() }).where(eq(tenantRelocations.id, id));
  }

  /**
   * The switch: the tenant's directory entry now names the target, in the same transaction that ends the copy
   * (the directory announces the change, so every reader that cached the old instance drops it).
   */
  async switchOver(row: TenantRelocationRow): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const moved = await tx
        .update(tenantRelocations)
        .set({ phase: "cleaning", updatedAt: new Date() })
        .where(and(eq(tenantRelocations.id, row.id), eq(tenantRelocations.phase, "switching")))
        .returning({ id: tenantRelocations.id });
      if (moved.length === 0) return false;
      await tx.update(tenants).set({ instanceId: row.toInstanceId }).where(and(eq(tenants.id, row.tenantId), eq(tenants.instanceId, row.fromInstanceId)));
      return true;
    });
  }
}
