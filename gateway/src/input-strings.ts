import type { ApolloServerPlugin } from "@apollo/server";
import { BREAK, GraphQLError, visit, type DocumentNode } from "graphql";
import { ErrorCode } from "@kombify/service-core/errors";

/**
 * No input string may hold a NUL character: PostgreSQL refuses it in text (a crash deep in a subgraph, reported
 * as INTERNAL), PocketBase and logs mangle it, and no name, e-mail or id has a use for it. Checked once at the
 * front door, for every argument of every subgraph, in literals and variables alike.
 */
const NUL = "\u0000";

const refusal = (where: string) =>
  new GraphQLError(`${where}: text may not contain the NUL character (\\u0000).`, { extensions: { code: ErrorCode.BAD_USER_INPUT, field: where } });

/** Where in a variable's value a string holds NUL (`$input.nodes[2].hostname`), or null. */
export function nulInValue(value: unknown, path: string): string | null {
  if (typeof value === "string") return value.includes(NUL) ? path : null;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const found = nulInValue(value[index], `${path}[${index}]`);
      if (found) return found;
    }
    return null;
  }
  if (value && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      if (key.includes(NUL)) return `${path}.<key>`;
      const found = nulInValue(item, `${path}.${key}`);
      if (found) return found;
    }
  }
  return null;
}

/** GraphQL source spells NUL raw or as an escape; a text with neither cannot hold one, and needs no walk. */
const MAY_SPELL_NUL = /\u0000|\\u0000|\\u\{0+\}/i;

/** The refusal an operation earns for NUL in a string literal or a variable, if any. */
export function nulInOperation(text: string | undefined, document: DocumentNode, variables: Record<string, unknown> | null | undefined): GraphQLError | null {
  const where = nulInValue(variables ?? {}, "");
  if (where) return refusal(`$${where.slice(1)}`);
  if (text !== undefined && !MAY_SPELL_NUL.test(text)) return null;
  let literal = false;
  visit(document, {
    StringValue(node) {
      if (!node.value.includes(NUL)) return undefined;
      literal = true;
      return BREAK;
    },
  });
  return literal ? refusal("A string argument") : null;
}

/** Apollo: variables are known only after validation, before execution (and so before planning). */
export function refuseNulInInput<Context extends object>(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document }) {
          const error = nulInOperation(request.query, document, request.variables);
          if (error) throw new GraphQLError(error.message, { extensions: { ...error.extensions, http: { status: 400 } } });
        },
      };
    },
  };
}
