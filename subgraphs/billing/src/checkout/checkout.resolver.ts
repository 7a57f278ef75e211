import { Arg, Authorized, Ctx, Field, Mutation, ObjectType, Resolver } from "type-graphql";
import { errors } from "@kombify/service-core/errors";
import { PlanTierEnum } from "@kombify/plan-catalog/graphql";
import { requireTenant, type PlanTier, type RequestContext } from "@kombify/service-core/auth";

@ObjectType("RedirectSession")
export class RedirectSession {
  @Field(() => String)
  url!: string;

  @Field(() => Date, { nullable: true })
  expiresAt!: Date | null;
}

/** Stripe Checkout and the billing portal: Stripe's API is the only way to open them. */
@Resolver()
export class CheckoutResolver {
  constructor(private readonly stripeConfigured: boolean) {}

  @Authorized()
  @Mutation(() => RedirectSession)
  startCheckout(@Ctx() context: RequestContext, @Arg("tier", () => PlanTierEnum) tier: PlanTier): RedirectSession {
    requireTenant(context);
    if (tier === "FREE") throw errors.badInput("tier", "FREE needs no checkout.");
    throw this.stripeUnavailable();
  }

  @Authorized()
  @Mutation(() => RedirectSession)
  openBillingPortal(@Ctx() context: RequestContext): RedirectSession {
    requireTenant(context);
    throw this.stripeUnavailable();
  }

  private stripeUnavailable() {
    return this.stripeConfigured
      ? errors.notYetAvailable("Stripe checkout")
      : errors.unavailable("Billing is not configured on this deployment (STRIPE_SECRET_KEY is not set).");
  }
}
