import { sql } from "drizzle-orm";
import { chooseTenantSubscription } from "./tenant-subscription-choice.js";
import type { Db } from "@kombify/service-core/database";
import type { Logger } from "@kombify/service-core/logging";

/**
 * Announces the end of past-due grace periods. billing.effective_plan decides with now(), so a tenant's plan
 * drops to FREE the moment its grace ends, but no row changes then and nothing would tell the tenant directory's
 * readers (the gateway's cache, open sockets) to look again. Every `intervalMs` this marks the grace periods that
 * have ended and touches each tenant's mirror row, whose trigger sends kombify_plan_changed. One UPDATE claims
 * each row, so replicas sweeping at once announce it once; a late sweep only delays the announcement, never the plan.
 */
export class GraceSweeper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
  ) {}

  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      this.running = this.sweep().catch((error) => this.log.error({ err: error }, "could not announce ended grace periods"));
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** The tenants whose grace period ended since the last sweep, announced now. */
  async sweep(): Promise<string[]> {
    // The tenant's mirror row is chosen anew (a subscription whose grace ended no longer outranks one that pays),
    // which touches it, and its trigger sends kombify_plan_changed.
    const tenants = await this.db.transaction(async (tx) => {
      const ended = await tx.execute<{ tenant_id: string }>(sql`
        update billing.stripe_subscriptions set grace_end_announced = true
        where not grace_end_announced and grace_ends_at <= now()
        returning tenant_id`);
      const distinct = [...new Set([...ended].map((row) => row.tenant_id))];
      for (const tenantId of distinct) await chooseTenantSubscription(tx, tenantId);
      return distinct;
    });
    if (tenants.length > 0) this.log.info({ tenants }, "past-due grace periods ended: plans announced as changed");
    return tenants;
  }
}
