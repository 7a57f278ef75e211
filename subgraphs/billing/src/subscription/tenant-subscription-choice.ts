import { sql } from "drizzle-orm";
import type { Db } from "@kombify/service-core/database";

/** Whether a Stripe subscription grants its plan now: active or trialing, or past due within its grace period. */
const GRANTS = sql.raw(`(status in ('active', 'trialing') or (status = 'past_due' and (grace_ends_at is null or grace_ends_at > now())))`);

/**
 * The mirror's row for the tenant: of its subscriptions with a known state, one that grants a plan before one
 * that does not, among those the higher plan, then the newest. A function of the subscriptions' states alone, so it
 * too is the same whatever order events came in. Touching the row (always, when something was applied) fires
 * billing's trigger, whose kombify_plan_changed tells the tenant directory's readers to look again.
 */
export async function chooseTenantSubscription(tx: Pick<Db, "execute">, tenantId: string): Promise<void> {
  await tx.execute(sql`
    insert into billing.billing_subscriptions
      (tenant_id, stripe_customer_id, stripe_subscription_id, status, plan_tier, current_period_end, cancel_at_period_end, updated_at)
    select tenant_id, stripe_customer_id, stripe_subscription_id, status, coalesce(plan_tier, 'FREE'), current_period_end, cancel_at_period_end, now()
    from billing.stripe_subscriptions
    where tenant_id = ${tenantId} and status is not null
    order by ${GRANTS} desc,
             case when ${GRANTS} then plan_tier end desc nulls last,
             state_event_created desc, stripe_subscription_id desc
    limit 1
    on conflict (tenant_id) do update set
      stripe_customer_id = excluded.stripe_customer_id,
      stripe_subscription_id = excluded.stripe_subscription_id,
      status = excluded.status,
      plan_tier = excluded.plan_tier,
      current_period_end = excluded.current_period_end,
      cancel_at_period_end = excluded.cancel_at_period_end,
      updated_at = excluded.updated_at`);
}
