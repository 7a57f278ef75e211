/** The codes the API puts in `extensions.code`; see the README. */
export type KombifyErrorCode =
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "BAD_USER_INPUT"
  | "CONFLICT"
  | "QUOTA_EXCEEDED"
  | "RATE_LIMITED"
  | "PLAN_REQUIRED"
  | "UNAVAILABLE"
  | "INTERNAL"
  | "GRAPHQL_PARSE_FAILED"
  | "GRAPHQL_VALIDATION_FAILED";

export interface KombifyGraphQLError {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: KombifyErrorCode; field?: string; limit?: number; requiredTier?: string };
}

/** A failed operation: every GraphQL error with its code, the partial data if any, and the request id to quote. */
export class KombifyApiError extends Error {
  constructor(
    readonly errors: KombifyGraphQLError[],
    readonly status: number,
    readonly requestId: string | null,
    readonly partialData: unknown,
  ) {
    super(errors.map((error) => `${error.extensions?.code ?? "ERROR"}: ${error.message}`).join("; "));
    this.name = "KombifyApiError";
  }

  /** The first error's code: what a caller usually switches on. */
  get code(): KombifyErrorCode | undefined {
    return this.errors[0]?.extensions?.code;
  }
}
