import { Directive, Authorized, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from "type-graphql";
import { errors } from "@kombify/service-core/errors";
import { requireUser, type RequestContext } from "@kombify/service-core/auth";
import type { HomelabLauncher } from "../launch/homelab-launcher.js";
import type { UserCache } from "./user-cache.js";
import { HomelabLaunch, TenantReference, User } from "./user.type.js";

@Resolver(() => User)
export class UserResolver {
  constructor(
    private readonly users: UserCache,
    private readonly launcher: HomelabLauncher,
  ) {}

  @Query(() => User, { nullable: true, description: "The caller, as the verified token says." })
  me(@Ctx() context: RequestContext): Promise<User> {
    return this.users.remember(requireUser(context));
  }

  @Authorized()
  // Weighed for what it costs us, not for its answer: a PocketBase user, a mapping and an impersonation token.
  @Directive("@cost(weight: 10)")
  @Mutation(() => HomelabLaunch, {
    description: "Finds or creates the tenant by the token's organisation and the user in users_<slug>; returns a token.",
  })
  launchHomelab(@Ctx() context: RequestContext): Promise<HomelabLaunch> {
    return this.launcher.launch(context);
  }

  @FieldResolver(() => TenantReference)
  tenant(@Root() user: User): TenantReference {
    if (!user.tenantId) throw errors.notFound("This user's tenant (create it with createTenant first)");
    return { id: user.tenantId };
  }

  /** Another subgraph's `User { id }`: only the caller themself. */
  static reference(users: UserCache) {
    return {
      __resolveReference(reference: Pick<User, "id">, context: RequestContext): Promise<User | null> | null {
        return context.caller.kind === "user" && context.caller.userId === reference.id ? users.byId(reference.id) : null;
      },
    };
  }
}
