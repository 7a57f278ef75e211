import { sql } from "drizzle-orm";
import type { Db, Transaction } from "@kombify/service-core/database";

/**
 * An instance's place in service as moves see it: being drained (no tenant is placed or moved onto it) or retired.
 * `retired_at` is the provisioning migration's column: read from the row as JSON, so this holds with or without it.
 */
export interface InstanceService {
  mode: "SHARED" | "DEDICATED";
  draining: boolean;
  retired: boolean;
}

export async function instanceService(db: Db | Transaction, id: string): Promise<InstanceService | null> {
  const rows = await db.execute<{ mode: InstanceService["mode"]; draining: boolean; retired: boolean }>(sql`
    select si.deployment_mode::text as mode, si.draining_since is not null as draining, (to_jsonb(si) ->> 'retired_at') is not null as retired
    from tenant.stack_instances si where si.id = ${id}`);
  return rows[0] ?? null;
}

/** Marks the instance as being drained; false for an unknown or retired one. */
export async function markDraining(db: Db, id: string): Promise<boolean> {
  const rows = await db.execute(sql`
    update tenant.stack_instances si set draining_since = coalesce(si.draining_since, now())
    where si.id = ${id} and (to_jsonb(si) ->> 'retired_at') is null returning si.id`);
  return rows.length > 0;
}

/** The instances being drained and not yet retired. */
export async function drainingInstanceIds(db: Db): Promise<string[]> {
  const rows = await db.execute<{ id: string }>(sql`
    select si.id from tenant.stack_instances si where si.draining_since is not null and (to_jsonb(si) ->> 'retired_at') is null`);
  return rows.map((row) => row.id);
}
