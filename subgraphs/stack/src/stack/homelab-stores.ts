import { requireTenant, type NamespaceResolver, type RequestContext } from "@kombify/service-core";
import { HomelabStore } from "./homelab-store.js";

/** The caller's store, in the namespace of the tenant its verified context names: never any other. */
export class HomelabStores {
  constructor(private readonly namespaces: NamespaceResolver) {}

  async of(context: RequestContext): Promise<HomelabStore> {
    return new HomelabStore(await this.namespaces.resolve(requireTenant(context)));
  }
}
