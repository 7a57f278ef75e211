import { BREAK, visit, type DocumentNode } from "graphql";
import { AppError, ErrorCode } from "../errors/app-error.js";

/**
 * Root fields a subgraph answers only to the gateway: its schema (introspection and the federation `_service`
 * SDL, a map of every internal field and argument) and `_entities`, which looks entities up by key, bypassing the
 * root fields' checks for anyone who learns an id. `__typename` stays open: it reveals nothing.
 */
const GATEWAY_ONLY_FIELDS = new Set(["_service", "_entities", "__schema", "__type"]);

/**
 * The first gateway-only field anywhere in `document`, or null. The whole document is searched, fragments
 * included, so no spread or alias hides one; on the validated documents this sees, the names can only be root fields.
 */
export function gatewayOnlyField(document: DocumentNode): string | null {
  let found: string | null = null;
  visit(document, {
    Field(node) {
      if (GATEWAY_ONLY_FIELDS.has(node.name.value)) {
        found = node.name.value;
        return BREAK;
      }
      return undefined;
    },
  });
  return found;
}

/**
 * FORBIDDEN for an operation asking a direct caller (no verified context) for `field`. Over HTTP it carries status
 * 403; the gateway never meets it, since it sends every operation with a context (anonymous callers' included).
 */
export function gatewayOnlyError(field: string, transport: "http" | "ws"): AppError {
  return new AppError(
    ErrorCode.FORBIDDEN,
    `${field} is answered only through the gateway: call the gateway's /graphql, not this subgraph directly.`,
    transport === "http" ? { http: { status: 403 } } : {},
  );
}
