import {
  fenceNamespace,
  namespaceRecords,
  provisionNamespace,
  removeNamespace,
  syncNamespaceRecords,
  unfenceNamespace,
  type NamespaceResolver,
  type PocketBaseConnections,
  type RecordSource,
} from "@kombify/homelab-store";
import { errorMessage } from "@kombify/service-core/errors";
import type { Database } from "@kombify/service-core/database";
import type { Logger } from "@kombify/service-core/logging";
import type { InstanceDirectory } from "../directory/instance-directory.js";
import type { TenantDirectory } from "../directory/tenant-directory.js";
import type { TenantRelocationRow } from "../db/schema.js";
import type { TenantRelocations } from "./tenant-relocations.js";

/** Copy passes before a copy that still differs from its source is given up (and the move rolled back). */
const COPY_ATTEMPTS = 3;

export interface TenantMoverDeps {
  relocations: TenantRelocations;
  instances: InstanceDirectory;
  tenants: TenantDirectory;
  namespaces: NamespaceResolver;
  connections: PocketBaseConnections;
  /** A client of its own for the session lock a mover holds on a move while it drives it. */
  sql: Database["sql"];
  log: Logger;
  /** After the switch: what the tenant subgraph keeps in the new namespace from PostgreSQL (its flags). */
  afterSwitch?: (tenantId: string) => Promise<void>;
}

/**
 * Drives a tenant's move through its phases, each recorded in PostgreSQL before the next begins:
 *
 * - fencing: the namespace's collections on the old instance are renamed out of every writer's reach (see
 *   fenceNamespace); the directory says the tenant is moving, so new requests answer UNAVAILABLE with a retry hint;
 * - copying: the namespace is made on the new instance and every record copied with its id, then both sides are
 *   read again and compared, count and checksum of every record, until they agree;
 * - switching → cleaning: the directory entry names the new instance (one transaction with the phase);
 * - cleaning → done: the old namespace is removed.
 *
 * Any failure before the switch rolls the move back (the copy removed, the fence lifted). Each step can run
 * again: a mover that dies anywhere is resumed by the next (`resumeUnfinished`, at start and on every sweep),
 * which finishes the phase it was in without losing or duplicating a record. One mover drives a move at a time:
 * it holds a session advisory lock on it, which PostgreSQL releases when a dead mover's connection closes.
 */
export class TenantMover {
  constructor(private readonly deps: TenantMoverDeps) {}

  /** Drives the move to done or rolled back; null when another mover holds it now. */
  async run(relocationId: string): Promise<TenantRelocationRow | null> {
    const session = await this.deps.sql.reserve();
    const key = `tenant-relocation:${relocationId}`;
    try {
      const [lock] = await session<{ held: boolean }[]>`select pg_try_advisory_lock(hashtext(${key})) as held`;
      if (!lock?.held) return null;
      try {
        return await this.drive(relocationId);
      } finally {
        await session`select pg_advisory_unlock(hashtext(${key}))`.catch(() => {});
      }
    } finally {
      session.release();
    }
  }

  /** Resumes every move no live mover is driving (after a crash, or another replica's). */
  async resumeUnfinished(): Promise<void> {
    for (const row of await this.deps.relocations.unfinished()) {
      await this.run(row.id).catch((error) => this.deps.log.error({ err: error, relocationId: row.id }, "could not resume a tenant move"));
    }
  }

  private async drive(relocationId: string): Promise<TenantRelocationRow> {
    for (;;) {
      const row = await this.deps.relocations.get(relocationId);
      if (!row) throw new Error(`Tenant move ${relocationId} does not exist.`);
      if (row.phase === "done" || row.phase === "rolled_back") return row;
      try {
        await this.step(row);
      } catch (error) {
        this.deps.log.warn({ err: error, relocationId: row.id, phase: row.phase }, "a tenant move step failed");
        await this.deps.relocations.recordError(row.id, `${row.phase}: ${errorMessage(error)}`);
        // Before the switch the move is rolled back (the next turn of this loop); after it, the step is retried
        // by the next sweep, since the tenant already lives on its new instance.
        if (row.phase !== "fencing" && row.phase !== "copying") throw error;
        await this.deps.relocations.advance(row.id, row.phase, "rolling_back");
      }
    }
  }

  private async step(row: TenantRelocationRow): Promise<void> {
    const { relocations } = this.deps;
    switch (row.phase) {
      case "fencing": {
        const from = await this.source(row);
        await fenceNamespace(from.pb, from.instanceUrl, from.tenant);
        await relocations.advance(row.id, "fencing", "copying");
        return;
      }
      case "copying": {
        const checksum = await this.copy(row);
        await relocations.advance(row.id, "copying", "switching", { checksum, error: null });
        return;
      }
      case "switching":
        await relocations.switchOver(row);
        this.deps.log.info({ relocationId: row.id, tenantId: row.tenantId, to: row.toInstanceId }, "tenant switched to its new instance");
        return;
      case "cleaning": {
        const from = await this.source(row);
        await removeNamespace(from.pb, from.instanceUrl, from.tenant);
        await this.deps.afterSwitch?.(row.tenantId);
        await relocations.advance(row.id, "cleaning", "done");
        return;
      }
      case "rolling_back": {
        const from = await this.source(row);
        await unfenceNamespace(from.pb, from.instanceUrl, from.tenant);
        await relocations.advance(row.id, "rolling_back", "rolled_back");
        // The copy is no one's: the tenant lives where it was. Left behind if the target does not answer.
        const to = await this.target(row);
        await removeNamespace(to.pb, to.instanceUrl, to.tenant).catch((error) =>
          this.deps.log.warn({ err: error, relocationId: row.id }, "a rolled-back move's copy could not be removed from its target"),
        );
        return;
      }
    }
  }

  /** Copies until the target agrees with the source record for record; the agreed checksum. */
  private async copy(row: TenantRelocationRow): Promise<string> {
    const from = await this.source(row);
    const to = await this.target(row);
    await provisionNamespace(await this.deps.namespaces.at(to.instanceUrl, to.tenant));
    for (let attempt = 1; ; attempt++) {
      await syncNamespaceRecords(from, to, (written) => this.deps.relocations.recordProgress(row.id, written));
      const [source, target] = await Promise.all([namespaceRecords(from), namespaceRecords(to)]);
      if (source.count === target.count && source.checksum === target.checksum) return source.checksum;
      if (attempt >= COPY_ATTEMPTS) {
        throw new Error(`The copy differs from its source after ${attempt} passes (${target.count} of ${source.count} records, checksums ${target.checksum} ≠ ${source.checksum}).`);
      }
    }
  }

  private async source(row: TenantRelocationRow): Promise<RecordSource> {
    return this.side(row, row.fromInstanceId, true);
  }

  private async target(row: TenantRelocationRow): Promise<RecordSource> {
    return this.side(row, row.toInstanceId, false);
  }

  private async side(row: TenantRelocationRow, instanceId: string, fenced: boolean): Promise<RecordSource> {
    const [instance, tenant] = await Promise.all([this.deps.instances.get(instanceId), this.deps.tenants.byId(row.tenantId)]);
    if (!instance || !tenant) throw new Error(`Tenant move ${row.id} names an instance or tenant that no longer exists.`);
    return { pb: await this.deps.connections.forInstance(instance.pocketbaseUrl), instanceUrl: instance.pocketbaseUrl, tenant: { id: tenant.id, slug: tenant.slug }, fenced };
  }
}
