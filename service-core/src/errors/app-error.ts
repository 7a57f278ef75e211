import { ErrorCode } from "@kombify/error-codes";
import { GraphQLError } from "graphql";

// The codes live in @kombify/error-codes, which the clients share; re-exported so services keep importing them here.
export { ErrorCode, RequestErrorCode, API_ERROR_CODES, type ApiErrorCode } from "@kombify/error-codes";

/** An expected failure: a GraphQL error whose `extensions.code` clients can switch on. */
export class AppError extends GraphQLError {
  constructor(
    readonly code: ErrorCode,
    message: string,
    extra: Record<string, unknown> = {},
  ) {
    // No extensions.http: a subgraph answering 401 would read as a transport failure at the gateway.
    super(message, { extensions: { code, ...extra } });
    this.name = "AppError";
  }
}

export const errors = {
  unauthenticated: (message = "Sign in: this operation needs a valid access token.") =>
    new AppError(ErrorCode.UNAUTHENTICATED, message),
  forbidden: (message: string) => new AppError(ErrorCode.FORBIDDEN, message),
  notFound: (what: string, id?: string) =>
    new AppError(ErrorCode.NOT_FOUND, id ? `${what} ${id} was not found.` : `${what} was not found.`),
  badInput: (field: string, message: string) =>
    new AppError(ErrorCode.BAD_USER_INPUT, `${field}: ${message}`, { field }),
  conflict: (message: string) => new AppError(ErrorCode.CONFLICT, message),
  quotaExceeded: (message: string, limit: number) => new AppError(ErrorCode.QUOTA_EXCEEDED, message, { limit }),
  planRequired: (message: string, requiredTier: string) =>
    new AppError(ErrorCode.PLAN_REQUIRED, message, { requiredTier }),
  unavailable: (message: string) => new AppError(ErrorCode.UNAVAILABLE, message),
  notYetAvailable: (operation: string) =>
    new AppError(ErrorCode.UNAVAILABLE, `${operation} is not available yet on this deployment.`),
};

/** What went wrong, as one line, whatever was thrown. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
