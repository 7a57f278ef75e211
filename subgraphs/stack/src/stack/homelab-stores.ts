import { PerRequest } from "@kombify/service-core/graphql";
import { requireTenant, type RequestContext } from "@kombify/service-core/auth";
import type { NamespaceResolver } from "@kombify/homelab-store";
import { HomelabLoaders } from "./homelab-loaders.js";
import { HomelabStore } from "./homelab-store.js";

export interface RequestHomelab {
  store: HomelabStore;
  /** Batched reads for field resolvers, shared by the whole operation. */
  batched: HomelabLoaders;
}

/** The caller's store, in the namespace of the tenant its verified context names: never any other. */
export class HomelabStores {
  /** One store and one set of batches per operation's context, so all its resolvers' reads batch together. */
  private readonly perContext = new PerRequest<RequestContext, Promise<RequestHomelab>>((context) => {
    const homelab = this.namespaces.resolve(requireTenant(context)).then((namespace) => {
      const store = new HomelabStore(namespace);
      return { store, batched: new HomelabLoaders(store) };
    });
    // A failed resolve (PocketBase or the database down) is not kept: the next resolver tries again.
    homelab.catch(() => this.perContext.forget(context));
    return homelab;
  });

  constructor(private readonly namespaces: NamespaceResolver) {}

  async of(context: RequestContext): Promise<HomelabStore> {
    requireTenant(context);
    return (await this.perContext.of(context)).store;
  }

  async batchedFor(context: RequestContext): Promise<HomelabLoaders> {
    requireTenant(context);
    return (await this.perContext.of(context)).batched;
  }
}
