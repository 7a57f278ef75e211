import type { GraphQLFormattedError } from "graphql";
import { unwrapResolverError } from "@apollo/server/errors";
import type { Logger } from "../logging/logger.js";
import { AppError, ErrorCode } from "./app-error.js";

const codesThatAreClientMistakes = new Set<string>([
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_USER_INPUT",
  "BAD_REQUEST",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
  "OPERATION_RESOLUTION_FAILURE",
]);

/**
 * Apollo `formatError`: expected errors pass through with their code; anything unexpected is logged once
 * (with the request id carried by the logger) and reaches the client as INTERNAL without its message
 * or stack, unless `exposeInternals` is set for development.
 */
export function createErrorFormatter(log: Logger, exposeInternals: boolean) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof AppError) return formatted;
    const code = String(formatted.extensions?.code ?? "");
    if (codesThatAreClientMistakes.has(code)) {
      const mapped = code === "GRAPHQL_VALIDATION_FAILED" || code === "GRAPHQL_PARSE_FAILED" ? code : ErrorCode.BAD_USER_INPUT;
      return { message: formatted.message, locations: formatted.locations, path: formatted.path, extensions: { code: mapped } };
    }
    log.error({ err: original, path: formatted.path }, "unexpected error while resolving");
    return {
      message: exposeInternals ? formatted.message : "Internal error. Quote the request id when you report it.",
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: ErrorCode.INTERNAL },
    };
  };
}
