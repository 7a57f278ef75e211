import { sql } from "drizzle-orm";
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
    const rows = await this.db.execute<{ tenant_id: string }>(sql`
      with ended as (
        update billing.stripe_subscriptions set grace_end_announced = true
        where not grace_end_announced and grace_ends_at <= now()
        returning tenant_id
      )
      update billing.billing_subscriptions b set updated_at = now()
      from (select distinct tenant_id from ended) e
      where b.tenant_id = e.tenant_id
      returning b.tenant_id`);
    const tenants = [...rows].map((row) => row.tenant_id);
    if (tenants.length > 0) this.log.info({ tenants }, "past-due grace periods ended: plans announced as changed");
    return tenants;
  }
}
