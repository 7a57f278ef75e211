import type { ApiErrorCode } from "@kombify/error-codes";

/** The codes the API puts in `extensions.code` (from @kombify/error-codes, the list the services raise); see the README. */
export type KombifyErrorCode = ApiErrorCode;

export interface KombifyGraphQLError {
  message: string;
  path?: readonly (string | number)[];
  extensions?: { code?: KombifyErrorCode; field?: string; limit?: number; requiredTier?: string; [key: string]: unknown };
}

/** A failed operation: every GraphQL error with its code, the partial data if any, and the request id to quote. */
export class KombifyApiError extends Error {
  constructor(
    readonly errors: KombifyGraphQLError[],
    /** The HTTP status; 0 for an operation over the WebSocket. */
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
