import { maybeCacheControlFromInfo } from "@apollo/cache-control-types";
import type { GraphQLResolveInfo } from "graphql";

/**
 * How long the gateway (and a browser) may reuse an answer about the catalog. The catalog is read from
 * stackkits/ once at start, so it only changes with a deploy; a minute bounds how stale a kit's name can be.
 */
export const CATALOG_MAX_AGE_SECONDS = 60;

/**
 * Marks an answer about StackKits as reusable for CATALOG_MAX_AGE_SECONDS, PRIVATE because `entitled` depends
 * on the caller's plan. Apollo Server turns it into the response's `Cache-Control`, which the gateway honours
 * for subscription events (it then fetches a kit once a minute per audience, not once per event).
 */
export function hintCatalogCaching(info: GraphQLResolveInfo): void {
  maybeCacheControlFromInfo(info)?.setCacheHint({ maxAge: CATALOG_MAX_AGE_SECONDS, scope: "PRIVATE" });
}
