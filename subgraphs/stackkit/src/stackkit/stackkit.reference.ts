import type { RequestContext, StackKitCatalog } from "@kombify/service-core";
import { toStackKit } from "./stackkit.mapper.js";
import type { StackKit } from "./stackkit.type.js";

/** Resolves `StackKit { id }` references from other subgraphs (a stack's kit, a simulation's kit). */
export function stackKitReference(catalog: StackKitCatalog) {
  return {
    __resolveReference(reference: Pick<StackKit, "id">, context: RequestContext): StackKit | null {
      const kit = catalog.find(reference.id);
      return kit ? toStackKit(kit, context.caller) : null;
    },
  };
}
