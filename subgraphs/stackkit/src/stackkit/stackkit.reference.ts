import type { GraphQLResolveInfo } from "graphql";
import type { RequestContext } from "@kombify/service-core/auth";
import type { StackKitCatalog } from "@kombify/stackkit-catalog";
import { hintCatalogCaching } from "./catalog-cache-hint.js";
import { toStackKit } from "./stackkit.mapper.js";
import type { StackKit } from "./stackkit.type.js";

/** Resolves `StackKit { id }` references from other subgraphs (a stack's kit, a simulation's kit). */
export function stackKitReference(catalog: StackKitCatalog) {
  return {
    __resolveReference(reference: Pick<StackKit, "id">, context: RequestContext, info: GraphQLResolveInfo): StackKit | null {
      hintCatalogCaching(info);
      const kit = catalog.find(reference.id);
      return kit ? toStackKit(kit, context.caller) : null;
    },
  };
}
