import { Directive, Field, ID, ObjectType } from "type-graphql";

/** The tenant entity, owned by the tenant subgraph. */
@Directive('@key(fields: "id", resolvable: false)')
@ObjectType("Tenant")
export class TenantReference {
  @Field(() => ID)
  id!: string;
}

@Directive('@key(fields: "id")')
@ObjectType("User")
export class User {
  @Field(() => ID, { description: "The Zitadel subject." })
  id!: string;

  @Field(() => String)
  email!: string;

  @Field(() => String, { nullable: true })
  displayName!: string | null;

  @Field(() => [String])
  roles!: string[];

  tenantId!: string | null;
}

@ObjectType("HomelabLaunch", { description: "The SSO exchange: a PocketBase auth token for the caller in its tenant's users_<slug> collection." })
export class HomelabLaunch {
  @Field(() => String)
  token!: string;

  @Field(() => String)
  redirectUrl!: string;

  @Field(() => Date)
  expiresAt!: Date;

  @Field(() => User)
  user!: User;
}
