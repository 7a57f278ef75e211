import { sql } from "drizzle-orm";
import { errors } from "@kombify/service-core/errors";
import type { Db } from "@kombify/service-core/database";
import { simulationNodes } from "../db/schema.js";

export interface PortRange {
  first: number;
  last: number;
}

type Transaction = Parameters<Parameters<Db["transaction"]>[0]>[0];

/** Parses "22200-22999" (SIMULATION_SSH_PORTS). */
export function parsePortRange(value: string): PortRange | null {
  const match = /^(\d{1,5})-(\d{1,5})$/.exec(value.trim());
  if (!match) return null;
  const [first, last] = [Number(match[1]), Number(match[2])];
  return first >= 1024 && last <= 65535 && first <= last ? { first, last } : null;
}

/**
 * Picks the lowest `count` ports of the range no node holds, inside the caller's transaction. One advisory
 * lock for the whole pool makes pick-and-insert atomic across tenants and replicas; the unique index on
 * simulation_nodes.ssh_port is the backstop. Ports return to the pool when their node rows are deleted.
 */
export async function reserveSshPorts(tx: Transaction, count: number, range: PortRange): Promise<number[]> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext('simulation-ssh-ports'))`);
  const rows = await tx.execute<{ port: number }>(sql`
    select candidate as port from generate_series(${range.first}::int, ${range.last}::int) as candidate
    where not exists (select 1 from ${simulationNodes} where ssh_port = candidate)
    order by candidate limit ${count}`);
  const ports = [...rows].map((row) => Number(row.port));
  if (ports.length < count) {
    throw errors.unavailable(`No free SSH ports are left in ${range.first}-${range.last} for ${count} nodes; delete simulations or widen SIMULATION_SSH_PORTS.`);
  }
  return ports;
}
