import { Arg, Authorized, Ctx, Field, Mutation, ObjectType, Resolver } from "type-graphql";
import { errors } from "@kombify/service-core/errors";
import { PlanTierEnum } from "@kombify/plan-catalog/graphql";
import { requireTenant, requireUser, Role, type PlanTier, type RequestContext } from "@kombify/service-core/auth";
import type { CheckoutSessions } from "./checkout-sessions.js";

@ObjectType("RedirectSession")
export class RedirectSession {
  @Field(() => String)
  url!: string;

  @Field(() => Date, { nullable: true })
  expiresAt!: Date | null;
}

/** Stripe Checkout and the billing portal: Stripe's API is the only way to open them. Owners and admins only. */
@Resolver()
export class CheckoutResolver {
  /** `sessions` is null when STRIPE_SECRET_KEY is not set: both mutations then say so, and nothing else changes. */
  constructor(private readonly sessions: CheckoutSessions | null) {}

  @Authorized(Role.TENANT_OWNER, Role.TENANT_ADMIN)
  @Mutation(() => RedirectSession)
  async startCheckout(@Ctx() context: RequestContext, @Arg("tier", () => PlanTierEnum) tier: PlanTier): Promise<RedirectSession> {
    const tenant = requireTenant(context);
    if (tier === "FREE") throw errors.badInput("tier", "FREE needs no checkout.");
    return this.configured().startCheckout(requireUser(context), tenant, tier);
  }

  @Authorized(Role.TENANT_OWNER, Role.TENANT_ADMIN)
  @Mutation(() => RedirectSession)
  async openBillingPortal(@Ctx() context: RequestContext): Promise<RedirectSession> {
    const tenant = requireTenant(context);
    return this.configured().openPortal(tenant);
  }

  private configured(): CheckoutSessions {
    if (!this.sessions) throw errors.unavailable("Billing is not configured on this deployment (STRIPE_SECRET_KEY is not set).");
    return this.sessions;
  }
}
