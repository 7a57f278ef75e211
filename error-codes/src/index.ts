/**
 * The codes the kombify API puts in `extensions.code`, in one place: the services raise them (service-core's
 * AppError) and the clients switch on them (@kombify/client's KombifyApiError). This package has no
 * dependencies, so a browser bundle or a partner's script can take it without the server side.
 */

/** The codes of expected failures our services raise; every one of them carries one. */
export const ErrorCode = {
  UNAUTHENTICATED: "UNAUTHENTICATED",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  BAD_USER_INPUT: "BAD_USER_INPUT",
  CONFLICT: "CONFLICT",
  QUOTA_EXCEEDED: "QUOTA_EXCEEDED",
  RATE_LIMITED: "RATE_LIMITED",
  /** One operation's estimated cost is beyond the caller's plan's ceiling (`extensions.cost`, `extensions.limit`). */
  COST_LIMIT_EXCEEDED: "COST_LIMIT_EXCEEDED",
  PLAN_REQUIRED: "PLAN_REQUIRED",
  UNAVAILABLE: "UNAVAILABLE",
  INTERNAL: "INTERNAL",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * The codes of a request the gateway would not run, in GraphQL's and Apollo's vocabulary: a document that does
 * not parse or validate, a persisted document it does not know (`PERSISTED_QUERY_NOT_FOUND`: send the text
 * along), one outside its safelist (`PERSISTED_QUERY_NOT_IN_LIST`, with `OPERATIONS_SAFELIST=true`), and, over
 * the WebSocket only, a malformed subscribe message (`BAD_REQUEST`; over HTTP that is `BAD_USER_INPUT`).
 */
export const RequestErrorCode = {
  GRAPHQL_PARSE_FAILED: "GRAPHQL_PARSE_FAILED",
  GRAPHQL_VALIDATION_FAILED: "GRAPHQL_VALIDATION_FAILED",
  PERSISTED_QUERY_NOT_FOUND: "PERSISTED_QUERY_NOT_FOUND",
  PERSISTED_QUERY_NOT_IN_LIST: "PERSISTED_QUERY_NOT_IN_LIST",
  BAD_REQUEST: "BAD_REQUEST",
} as const;
export type RequestErrorCode = (typeof RequestErrorCode)[keyof typeof RequestErrorCode];

/** Every code a caller of the API can receive. */
export type ApiErrorCode = ErrorCode | RequestErrorCode;
export const API_ERROR_CODES: readonly ApiErrorCode[] = [...Object.values(ErrorCode), ...Object.values(RequestErrorCode)];
