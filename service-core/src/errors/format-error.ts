import type { ApolloServerPlugin } from "@apollo/server";
import { unwrapResolverError } from "@apollo/server/errors";
import type { GraphQLFormattedError } from "graphql";
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

/** Whether `code` is one of Apollo's for a request the client got wrong (parse, validation, APQ, operation name). */
export function isClientMistakeCode(code: unknown): boolean {
  return codesThatAreClientMistakes.has(String(code ?? ""));
}

/** Whether an error is neither one of ours (AppError) nor a mistake of the client's: a bug or a crash. */
export function isUnexpectedError(error: unknown, code: unknown): boolean {
  return !(unwrapResolverError(error) instanceof AppError) && !isClientMistakeCode(code);
}

/**
 * Apollo `formatError`: expected errors pass through with their code; anything unexpected reaches the client as
 * INTERNAL without its message or stack (unless `exposeInternals`, for development). Logging happens once, with
 * the request id, in `logUnexpectedErrors`.
 */
export function createErrorFormatter(exposeInternals: boolean) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = formatted.extensions?.code;
    if (!isUnexpectedError(error, code)) {
      if (unwrapResolverError(error) instanceof AppError) return formatted;
      const mapped = code === "GRAPHQL_VALIDATION_FAILED" || code === "GRAPHQL_PARSE_FAILED" ? code : ErrorCode.BAD_USER_INPUT;
      return { message: formatted.message, locations: formatted.locations, path: formatted.path, extensions: { code: mapped } };
    }
    return {
      message: exposeInternals ? formatted.message : "Internal error. Quote the request id when you report it.",
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: ErrorCode.INTERNAL },
    };
  };
}

/** Logs each unexpected error of an operation once, with its request id and path. */
export function logUnexpectedErrors<Context extends { requestId: string }>(
  log: Logger,
  isUnexpected: (error: unknown, code: unknown) => boolean = isUnexpectedError,
): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ contextValue, errors }) {
          for (const error of errors) {
            if (isUnexpected(error, error.extensions?.code)) {
              log.error({ requestId: contextValue.requestId, err: unwrapResolverError(error), path: error.path }, "unexpected error while resolving");
            }
          }
        },
      };
    },
  };
}
