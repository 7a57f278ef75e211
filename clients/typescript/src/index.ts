export { documentText, KombifyClient, type KombifyClientOptions, type SubscriptionEvent, type SubscriptionHandlers, type VariablesOf } from "./kombify-client.js";
export { KombifyApiError, type KombifyErrorCode, type KombifyGraphQLError } from "./kombify-error.js";
export { API_ERROR_CODES, ErrorCode, RequestErrorCode, type ApiErrorCode } from "@kombify/error-codes";
// The operations' typed documents (`MyHomelabDocument`, …) and their result and variable types, generated from
// operations/*.graphql and schema/api.graphql by `pnpm codegen`.
export * from "./generated/graphql.js";
