export { KombifyClient, type KombifyClientOptions } from "./kombify-client.js";
export { KombifyApiError, type KombifyErrorCode, type KombifyGraphQLError } from "./kombify-error.js";
export * from "./operations.js";
