import type { GraphQLFormattedError } from "graphql";
import { ErrorCode, type Logger } from "@kombify/service-core";

const PUBLIC_CODES = new Set<string>([...Object.values(ErrorCode), "GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED"]);
const PUBLIC_EXTENSIONS = ["field", "limit", "requiredTier"];
const UNREACHABLE = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|fetch failed|socket hang up|other side closed|Couldn't|status 50\d/i;

/**
 * The gateway's last word on every error: our codes pass through with their messages; a subgraph that
 * cannot be reached is UNAVAILABLE naming the service; anything else is INTERNAL without raw upstream text.
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
    if (UNREACHABLE.test(formatted.message)) {
      log.warn({ service, upstream: formatted.message }, "subgraph unavailable");
      return {
        ...base,
        message: `The ${service ?? "upstream"} service is unavailable; try again shortly.`,
        extensions: { code: ErrorCode.UNAVAILABLE },
      };
    }
    log.error({ service, upstream: formatted.message, extensions }, "unexpected error");
    return {
      ...base,
      message: exposeInternals ? formatted.message : "Internal error. Quote the request id when you report it.",
      extensions: { code: ErrorCode.INTERNAL },
    };
  };
}
