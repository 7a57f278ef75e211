import { eq } from "drizzle-orm";
import { Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import {
  assertMayReadTenant,
  effectivePlanTier,
  tables,
  type Db,
  type PlanCatalog,
  type RequestContext,
} from "@kombify/service-core";
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
    const row = await this.subscriptionOf(tenant.id);
    return toPlan(this.plans.get(effectivePlanTier(row)));
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
    const [row] = await this.db
      .select()
      .from(tables.billingSubscriptions)
      .where(eq(tables.billingSubscriptions.tenantId, tenantId));
    return row ?? null;
  }
}
