import { eq } from "drizzle-orm";
import { Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import { isPlanTier, type RequestContext } from "@kombify/service-core/auth";
import type { Db } from "@kombify/service-core/database";
import type { PlanCatalog } from "@kombify/plan-catalog";
import { assertMayReadTenant } from "@kombify/subgraph-tenant/tenant-access";
import { billingSubscriptions, effectivePlanOf } from "../db/schema.js";
import { toPlan } from "../plan/plan.mapper.js";
import { Plan } from "../plan/plan.type.js";
import { BillingSubscription, Tenant } from "./billing-subscription.type.js";

@Resolver(() => Tenant)
export class TenantBillingResolver {
  constructor(
    private readonly db: Db,
    private readonly plans: PlanCatalog,
  ) {}

  @FieldResolver(() => Plan, { description: "The tenant's plan, FREE until a Stripe subscription says otherwise." })
  async plan(@Root() tenant: Tenant, @Ctx() context: RequestContext): Promise<Plan> {
    await assertMayReadTenant(this.db, context, tenant.id);
    return toPlan(this.plans.get(await this.effectivePlanOf(tenant.id)));
  }

  @FieldResolver(() => BillingSubscription, { nullable: true })
  async subscription(@Root() tenant: Tenant, @Ctx() context: RequestContext): Promise<BillingSubscription | null> {
    await assertMayReadTenant(this.db, context, tenant.id);
    const row = await this.subscriptionOf(tenant.id);
    if (!row) return null;
    return {
      status: row.status,
      plan: toPlan(this.plans.get(row.planTier)),
      currentPeriodEnd: row.currentPeriodEnd,
      cancelAtPeriodEnd: row.cancelAtPeriodEnd,
    };
  }

  private async subscriptionOf(tenantId: string) {
    const [row] = await this.db.select().from(billingSubscriptions).where(eq(billingSubscriptions.tenantId, tenantId));
    return row ?? null;
  }

  /** Billing's one decision, the function its migrations publish (and the tenant directory's plan column reads). */
  private async effectivePlanOf(tenantId: string) {
    const [row] = await this.db.execute<{ plan: string }>(effectivePlanOf(tenantId));
    if (!isPlanTier(row?.plan)) throw new Error(`billing.effective_plan gave tenant ${tenantId} an unknown plan '${row?.plan}'.`);
    return row.plan;
  }
}
