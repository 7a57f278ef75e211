import { buildFederatedSubgraph, resolverContainer, type RequestContext, type SubgraphFactory } from "@kombify/service-core";
import { JobResolver } from "./job/job.resolver.js";
import { HomelabStores } from "./stack/homelab-stores.js";
import { StackResolver } from "./stack/stack.resolver.js";
import { Tenant, TenantStacksResolver } from "./tenant/tenant-stacks.resolver.js";

/** Stacks, their nodes and jobs, stored in each tenant's PocketBase namespace. */
export const createStackSubgraph: SubgraphFactory = async (runtime) => {
  const stores = new HomelabStores(runtime.namespaces);
  const byIdInCallersNamespace =
    <T>(find: (store: Awaited<ReturnType<HomelabStores["of"]>>, id: string) => Promise<T | null>) =>
    async (reference: { id: string }, context: RequestContext): Promise<T | null> => {
      if (context.caller.kind !== "user" || !context.caller.tenant) return null;
      return find(await stores.of(context), reference.id);
    };
  const subgraph = await buildFederatedSubgraph({
    resolvers: [StackResolver, JobResolver, TenantStacksResolver],
    container: resolverContainer([
      new StackResolver(stores, runtime.stackkits, runtime.plans, runtime.db),
      new JobResolver(stores),
      new TenantStacksResolver(stores),
    ]),
    orphanedTypes: [Tenant],
    referenceResolvers: {
      Tenant: { __resolveReference: (reference: { id: string }) => reference },
      Stack: { __resolveReference: byIdInCallersNamespace((store, id) => store.stack(id)) },
      Job: { __resolveReference: byIdInCallersNamespace((store, id) => store.job(id)) },
      Node: { __resolveReference: byIdInCallersNamespace((store, id) => store.node(id)) },
    },
  });
  return { subgraph, readiness: { database: runtime.checks.database, pocketbase: runtime.checks.pocketbase } };
};
