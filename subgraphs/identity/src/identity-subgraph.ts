import { buildFederatedSubgraph, resolverContainer, type SubgraphFactory } from "@kombify/service-core";
import { UserCache } from "./user/user-cache.js";
import { UserResolver } from "./user/user.resolver.js";

/** Who is calling: `me` from the verified context, the user cache, and the SSO exchange into PocketBase. */
export const createIdentitySubgraph: SubgraphFactory = async (runtime) => {
  const users = new UserCache(runtime.db);
  const subgraph = await buildFederatedSubgraph({
    resolvers: [UserResolver],
    container: resolverContainer([new UserResolver(users)]),
    referenceResolvers: { User: UserResolver.reference(users) },
  });
  return { subgraph, readiness: { database: runtime.checks.database, pocketbase: runtime.checks.pocketbase } };
};
