import type { GraphQLFormattedError } from "graphql";
import { ErrorCode, type Logger } from "@kombify/service-core";

const PUBLIC_CODES = new Set<string>([...Object.values(ErrorCode), "GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED"]);
const PUBLIC_EXTENSIONS = ["field", "limit", "requiredTier"];

/**
 * The gateway's last word on every error: our codes pass through with their messages (an unreachable
 * subgraph is already UNAVAILABLE, see SubgraphDataSource); anything else is INTERNAL without raw upstream text.
 */
export function createGatewayErrorFormatter(log: Logger, exposeInternals: boolean) {
  return (formatted: GraphQLFormattedError): GraphQLFormattedError => {
    const extensions = formatted.extensions ?? {};
    const code = typeof extensions.code === "string" ? extensions.code : "";
    const base = { locations: formatted.locations, path: formatted.path };
    if (PUBLIC_CODES.has(code)) {
      const kept = Object.fromEntries(PUBLIC_EXTENSIONS.filter((key) => key in extensions).map((key) => [key, extensions[key]]));
      return { ...base, message: formatted.message, extensions: { code, ...kept } };
    }
    if (code === "BAD_USER_INPUT" || code === "BAD_REQUEST") return { ...base, message: formatted.message, extensions: { code: ErrorCode.BAD_USER_INPUT } };
    const service = typeof extensions.serviceName === "string" ? extensions.serviceName : null;
    log.error({ service, upstream: formatted.message, extensions }, "unexpected error");
    return {
      ...base,
      message: exposeInternals ? formatted.message : "Internal error. Quote the request id when you report it.",
      extensions: { code: ErrorCode.INTERNAL },
    };
  };
}
