import { Directive, Field, ID, ObjectType } from "type-graphql";
import { Plan } from "../plan/plan.type.js";

@ObjectType("BillingSubscription")
export class BillingSubscription {
  @Field(() => String, { description: "Stripe's subscription status: active, trialing, past_due, canceled, ..." })
  status!: string;

  @Field(() => Plan)
  plan!: Plan;

  @Field(() => Date, { nullable: true })
  currentPeriodEnd!: Date | null;

  @Field(() => Boolean)
  cancelAtPeriodEnd!: boolean;
}

/** The tenant entity, owned by the tenant subgraph; billing adds its plan and subscription. */
@Directive('@key(fields: "id")')
@ObjectType("Tenant")
export class Tenant {
  @Field(() => ID)
  id!: string;
}
