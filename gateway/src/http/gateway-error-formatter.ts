import type { GraphQLFormattedError } from "graphql";
import { ErrorCode, isClientMistakeCode, RequestErrorCode } from "@kombify/service-core/errors";
import { CEILING_EXTENSION } from "../operation-ceilings.js";

const PUBLIC_CODES = new Set<string>([
  ...Object.values(ErrorCode),
  RequestErrorCode.GRAPHQL_PARSE_FAILED,
  RequestErrorCode.GRAPHQL_VALIDATION_FAILED,
  // OPERATIONS_SAFELIST's refusal: the client must see it to know its document is not registered here.
  RequestErrorCode.PERSISTED_QUERY_NOT_IN_LIST,
]);
const PUBLIC_EXTENSIONS = ["field", "limit", "requiredTier", CEILING_EXTENSION, "cost", "retryAfter"];

/** Whether an error reaching the gateway is none of our codes and no client mistake: worth a log line. */
export function isUnexpectedAtGateway(_error: unknown, code: unknown): boolean {
  return !PUBLIC_CODES.has(String(code ?? "")) && !isClientMistakeCode(code);
}

/**
 * The gateway's last word on every error: our codes pass through with their messages (an unreachable
 * subgraph is already UNAVAILABLE, see SubgraphClient); anything else is INTERNAL without raw upstream text.
 * Logging is done once per request, with its id, by the logUnexpectedErrors plugin.
 */
export function createGatewayErrorFormatter(exposeInternals: boolean) {
  return (formatted: GraphQLFormattedError, original?: unknown): GraphQLFormattedError => {
    const extensions = formatted.extensions ?? {};
    // A ceiling refuses inside validation, whose errors Apollo codes GRAPHQL_VALIDATION_FAILED: it is bad input.
    // So is an error Apollo answers 400 without a code ("provided sha does not match query").
    const code = extensions[CEILING_EXTENSION] || isCodelessClientError(original) ? ErrorCode.BAD_USER_INPUT : typeof extensions.code === "string" ? extensions.code : "";
    const base = { locations: formatted.locations, path: formatted.path };
    if (PUBLIC_CODES.has(code)) {
      const kept = Object.fromEntries(PUBLIC_EXTENSIONS.filter((key) => key in extensions).map((key) => [key, extensions[key]]));
      return { ...base, message: formatted.message, extensions: { code, ...kept } };
    }
    // Apollo's own codes for a client's mistakes keep their meaning (an APQ client must see
    // PERSISTED_QUERY_NOT_FOUND to send the query); a bad request is bad input in our vocabulary.
    if (isClientMistakeCode(code)) return { ...base, message: formatted.message, extensions: { code: code === "BAD_REQUEST" ? ErrorCode.BAD_USER_INPUT : code } };
    return {
      ...base,
      message: exposeInternals ? formatted.message : "Internal error. Quote the request id when you report it.",
      extensions: { code: ErrorCode.INTERNAL },
    };
  };
}

/** An error Apollo raised with a 4xx status and no code of its own (it would otherwise read INTERNAL_SERVER_ERROR). */
function isCodelessClientError(original: unknown): boolean {
  const extensions = (original as { extensions?: { code?: unknown; http?: { status?: unknown } } } | undefined)?.extensions;
  const status = extensions?.http?.status;
  return extensions?.code === undefined && typeof status === "number" && status >= 400 && status < 500;
}
