import { z } from "zod";
import { ConfigError, envTypes, parseEnv } from "@kombify/service-core/config";
import { tracingEnvShape, tracingOptions, type TracingOptions } from "@kombify/service-core/observability";
import { fileURLToPath } from "node:url";
import { isIP } from "node:net";
import { availableParallelism } from "node:os";
import { planCatalogSettingsShape } from "@kombify/plan-catalog";
import { subgraphUrlOverrides } from "./federation/supergraph-subgraphs.js";
import { DEFAULT_OPERATION_CEILINGS, type OperationCeilings } from "./operation-ceilings.js";

const DEFAULT_SUPERGRAPH_FILE = fileURLToPath(new URL("../../schema/supergraph.graphql", import.meta.url));
const DEFAULT_PERSISTED_DOCUMENTS_FILE = fileURLToPath(new URL("../../clients/typescript/src/generated/persisted-documents.json", import.meta.url));

function ceiling(fallback: number) {
  return z.coerce.number().int().min(1).max(100_000).default(fallback).describe("an integer from 1 to 100000");
}

const gatewayShape = {
  NODE_ENV: envTypes.nodeEnv(),
  LOG_LEVEL: envTypes.logLevel(),
  HOST: z.string().default("127.0.0.1").describe("the interface to listen on"),
  PORT: envTypes.port(4000),
  METRICS_HOST: z.string().default("127.0.0.1").describe("the interface the metrics listener binds to"),
  METRICS_PORT: envTypes.port(9464),
  GATEWAY_WORKERS: z.coerce.number().int().min(1).max(256).optional().describe("an integer from 1 to 256 (default: the available cores in production, 1 elsewhere)"),
  ...tracingEnvShape,
  SUPERGRAPH_FILE: z.string().default(DEFAULT_SUPERGRAPH_FILE).describe("the composed supergraph SDL file"),
  PERSISTED_DOCUMENTS_FILE: z.string().default(DEFAULT_PERSISTED_DOCUMENTS_FILE).describe("a JSON manifest of sha256 hash → document text"),
  OPERATIONS_SAFELIST: envTypes.boolean(false),
  DATABASE_URL: envTypes.postgresUrl(),
  CONTEXT_SIGNING_KEY: envTypes.pem("PKCS8 Ed25519 private key that signs tenant contexts"),
  OIDC_ISSUER: envTypes.url().optional(),
  OIDC_AUDIENCE: z.string().min(1).optional().describe("the Zitadel project id tokens must be issued for"),
  OIDC_JWKS_URL: envTypes.url().optional(),
  OIDC_ALGORITHMS: z
    .string()
    .default("RS256,ES256")
    .transform((v) => v.split(",").map((a) => a.trim()))
    .refine((algs) => algs.every((a) => /^(RS|PS|ES)(256|384|512)$|^EdDSA$/.test(a)), {
      message: "asymmetric JWS algorithms only",
    })
    .describe("a comma-separated list of asymmetric JWS algorithms (RS256, ES256, PS256, EdDSA, ...)"),
  PLATFORM_ORG_ID: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,128}$/)
    .optional()
    .describe("the Zitadel organisation id of the platform itself: only it can grant platform:admin"),
  OIDC_JWKS_REFRESH_COOLDOWN_MS: z.coerce.number().int().min(0).default(30_000).describe("milliseconds between refetches for unknown key ids"),
  OIDC_JWKS_MAX_AGE_MS: z.coerce.number().int().min(1000).default(600_000).describe("milliseconds before the keys are refetched"),
  WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: z.coerce.number().int().min(1).default(100).describe("a positive integer"),
  WS_MAX_SUBSCRIPTIONS_PER_TENANT: z.coerce.number().int().min(1).default(20_000).describe("a positive integer"),
  WS_MAX_CONNECTIONS_PER_TENANT: z.coerce.number().int().min(1).default(20_000).describe("a positive integer"),
  WS_KEEPALIVE_MS: z.coerce.number().int().min(1000).default(12_000).describe("milliseconds between pings"),
  WS_BUFFER_PER_SUBSCRIBER: z.coerce.number().int().min(1).default(1000).describe("events held for a subscriber that is not reading"),
  SUBGRAPH_TIMEOUT_MS: z.coerce.number().int().min(100).default(15_000).describe("milliseconds before a subgraph request fails"),
  SUBGRAPH_CONNECTIONS: z.coerce.number().int().min(1).max(1024).default(64).describe("keep-alive connections per subgraph, 1 to 1024"),
  TENANT_CACHE_TTL_MS: z.coerce.number().int().min(0).default(5000).describe("milliseconds, 0 to disable"),
  INTROSPECTION_ENABLED: z
    .enum(["true", "false", "1", "0"])
    .optional()
    .transform((v) => (v === undefined ? undefined : v === "true" || v === "1"))
    .describe("true or false (default: false in production, true elsewhere)"),
  PLAYGROUND_ENABLED: z
    .enum(["true", "false", "1", "0"])
    .optional()
    .transform((v) => (v === undefined ? undefined : v === "true" || v === "1"))
    .describe("true or false (default: false in production, else whether introspection is on)"),
  OPERATION_MAX_DEPTH: ceiling(DEFAULT_OPERATION_CEILINGS.maxDepth),
  OPERATION_MAX_ALIASES: ceiling(DEFAULT_OPERATION_CEILINGS.maxAliases),
  OPERATION_MAX_ROOT_FIELDS: ceiling(DEFAULT_OPERATION_CEILINGS.maxRootFields),
  OPERATION_MAX_DIRECTIVES: ceiling(DEFAULT_OPERATION_CEILINGS.maxDirectives),
  OPERATION_MAX_FIELDS: ceiling(DEFAULT_OPERATION_CEILINGS.maxFields),
  OPERATION_MAX_SUBSCRIPTION_FIELDS: ceiling(DEFAULT_OPERATION_CEILINGS.maxSubscriptionFields),
  OPERATION_MAX_COST: z.coerce.number().int().min(1).default(DEFAULT_OPERATION_CEILINGS.maxCost).describe("a positive integer"),
  OPERATION_ASSUMED_LIST_SIZE: ceiling(DEFAULT_OPERATION_CEILINGS.assumedListSize),
  ...planCatalogSettingsShape,
  RATE_LIMIT_ENABLED: envTypes.boolean(true),
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: z.coerce.number().int().min(1).default(60).describe("a positive integer"),
  REDIS_URL: z.string().regex(/^rediss?:\/\/.+/).optional().describe("a Redis URL like redis://127.0.0.1:6379"),
  RATE_LIMIT_REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9:._-]{1,64}$/).default("kombify:rate").describe("a Redis key prefix (letters, digits, : . _ -)"),
  TRUSTED_PROXIES: z
    .string()
    .default("")
    .transform((v) => v.split(",").map((entry) => entry.trim()).filter(Boolean))
    .refine((entries) => entries.every(isAddressOrRange), { message: "IP addresses or CIDR ranges" })
    .describe("a comma-separated list of proxy IP addresses or CIDR ranges (e.g. 10.0.0.0/8,127.0.0.1)"),
};

export interface GatewayConfig {
  nodeEnv: "development" | "production" | "test";
  logLevel: string;
  host: string;
  port: number;
  /** Where GET /metrics is served: its own listener, loopback by default, never the public port. */
  metrics: { host: string; port: number };
  /**
   * Gateway processes sharing the one port (GATEWAY_WORKERS). Above 1, a cluster primary forks them, replaces any
   * that dies, serves /metrics summed over them and keeps the counts they must share; 1: this process alone.
   */
  workers: number;
  supergraphFile: string;
  /** Registered documents (the typed client's manifest); with `safelist`, the only ones that run. */
  persistedDocuments: { file: string; safelist: boolean };
  databaseUrl: string;
  contextSigningKey: string;
  oidc: {
    issuer: string;
    audience: string;
    jwksUrl: string;
    algorithms: string[];
    /** The organisation whose grant of platform:admin counts; null in development when unset (no platform admins). */
    platformOrgId: string | null;
    jwks: { refreshCooldownMs: number; maxAgeMs: number };
  } | null;
  tenantCacheTtlMs: number;
  subgraphTimeoutMs: number;
  /** Keep-alive connections the gateway keeps to each subgraph at most. */
  subgraphConnections: number;
  /** Whether the schema may be introspected and validation errors suggest field names (off in production by default). */
  introspection: boolean;
  /** Whether GET /graphql (for browsers) and /graphiql serve the offline GraphiQL playground; it needs introspection. */
  playground: boolean;
  operationCeilings: OperationCeilings;
  /** The plan catalog (PLANS_FILE); undefined: config/plans.json. */
  plansFile: string | undefined;
  /** Requests per minute per tenant by plan (from the plan catalog), per user without a tenant, per anonymous address. */
  rateLimits: {
    enabled: boolean;
    anonymousPerMinute: number;
    /** Counters shared by every replica in Redis; null: in this process, or with more than one worker in their primary. */
    redis: { url: string; keyPrefix: string } | null;
    /** Without Redis and with more than one worker: counted by the cluster's primary for all of them (over IPC). */
    countedByPrimary: boolean;
    /** Peers whose X-Forwarded-For is believed (addresses or CIDR ranges); empty: the socket's peer is the client. */
    trustedProxies: string[];
  };
  webSocket: {
    maxSubscriptionsPerConnection: number;
    maxSubscriptionsPerTenant: number;
    maxConnectionsPerTenant: number;
    keepAliveMs: number;
    bufferPerSubscriber: number;
    /** With more than one worker: the per-tenant connection and subscription counts are the cluster primary's. */
    tenantQuotasInPrimary: boolean;
  };
  /** `SUBGRAPH_<NAME>_URL` overrides by variable; the subgraphs themselves come from the supergraph (join__graph). */
  subgraphUrlOverrides: Record<string, string>;
  /** OTLP/HTTP span export (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME); null: no tracer at all. */
  tracing: TracingOptions | null;
}

function isHttpUrl(value: string): boolean {
  try {
    return ["http:", "https:"].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

/** An IP address, or a CIDR range of them (`10.0.0.0/8`, `fd00::/8`). */
function isAddressOrRange(entry: string): boolean {
  const [address, prefix, ...rest] = entry.split("/");
  const family = isIP(address ?? "");
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/** The gateway's settings from the environment; outside development a token issuer is mandatory. */
export function parseGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const raw = parseEnv(gatewayShape, env) as z.infer<z.ZodObject<typeof gatewayShape>> & Record<string, string>;
  const problems: string[] = [];
  const overrides = subgraphUrlOverrides(env);
  for (const [variable, value] of Object.entries(overrides)) {
    if (!isHttpUrl(value)) problems.push(`${variable}="${value}" is invalid: an http(s) URL of the subgraph's GraphQL endpoint.`);
  }
  if (raw.OIDC_ISSUER && !raw.OIDC_AUDIENCE) problems.push("OIDC_AUDIENCE is required with OIDC_ISSUER: the Zitadel project id.");
  if (!raw.OIDC_ISSUER && raw.NODE_ENV !== "development") {
    problems.push(`OIDC_ISSUER is required outside development (NODE_ENV=${raw.NODE_ENV}): the Zitadel issuer URL.`);
  }
  if (!raw.PLATFORM_ORG_ID && raw.NODE_ENV !== "development") {
    problems.push(`PLATFORM_ORG_ID is required outside development (NODE_ENV=${raw.NODE_ENV}): the Zitadel organisation that may grant platform:admin.`);
  }
  const introspection = raw.INTROSPECTION_ENABLED ?? raw.NODE_ENV !== "production";
  if (raw.PLAYGROUND_ENABLED && !introspection) {
    problems.push("PLAYGROUND_ENABLED=true needs INTROSPECTION_ENABLED=true: the playground reads the schema by introspection (off in production unless enabled).");
  }
  if (problems.length > 0) throw new ConfigError(problems);
  // In production every core the process may run on; elsewhere (development, tests) one process, as before.
  const workers = raw.GATEWAY_WORKERS ?? (raw.NODE_ENV === "production" ? availableParallelism() : 1);
  return {
    nodeEnv: raw.NODE_ENV,
    logLevel: raw.LOG_LEVEL,
    host: raw.HOST,
    port: raw.PORT,
    metrics: { host: raw.METRICS_HOST, port: raw.METRICS_PORT },
    workers,
    supergraphFile: raw.SUPERGRAPH_FILE,
    persistedDocuments: { file: raw.PERSISTED_DOCUMENTS_FILE, safelist: raw.OPERATIONS_SAFELIST },
    databaseUrl: raw.DATABASE_URL,
    contextSigningKey: raw.CONTEXT_SIGNING_KEY,
    oidc: raw.OIDC_ISSUER
      ? {
          issuer: raw.OIDC_ISSUER,
          audience: raw.OIDC_AUDIENCE!,
          jwksUrl: raw.OIDC_JWKS_URL ?? `${raw.OIDC_ISSUER.replace(/\/$/, "")}/oauth/v2/keys`,
          algorithms: raw.OIDC_ALGORITHMS,
          platformOrgId: raw.PLATFORM_ORG_ID ?? null,
          jwks: { refreshCooldownMs: raw.OIDC_JWKS_REFRESH_COOLDOWN_MS, maxAgeMs: raw.OIDC_JWKS_MAX_AGE_MS },
        }
      : null,
    tenantCacheTtlMs: raw.TENANT_CACHE_TTL_MS,
    subgraphTimeoutMs: raw.SUBGRAPH_TIMEOUT_MS,
    subgraphConnections: raw.SUBGRAPH_CONNECTIONS,
    introspection,
    playground: raw.PLAYGROUND_ENABLED ?? (raw.NODE_ENV !== "production" && introspection),
    operationCeilings: {
      maxDepth: raw.OPERATION_MAX_DEPTH,
      maxAliases: raw.OPERATION_MAX_ALIASES,
      maxRootFields: raw.OPERATION_MAX_ROOT_FIELDS,
      maxDirectives: raw.OPERATION_MAX_DIRECTIVES,
      maxFields: raw.OPERATION_MAX_FIELDS,
      maxSubscriptionFields: raw.OPERATION_MAX_SUBSCRIPTION_FIELDS,
      maxCost: raw.OPERATION_MAX_COST,
      assumedListSize: raw.OPERATION_ASSUMED_LIST_SIZE,
    },
    plansFile: raw.PLANS_FILE,
    rateLimits: {
      enabled: raw.RATE_LIMIT_ENABLED,
      anonymousPerMinute: raw.RATE_LIMIT_ANONYMOUS_PER_MINUTE,
      redis: raw.REDIS_URL ? { url: raw.REDIS_URL, keyPrefix: raw.RATE_LIMIT_REDIS_PREFIX } : null,
      countedByPrimary: workers > 1 && !raw.REDIS_URL,
      trustedProxies: raw.TRUSTED_PROXIES,
    },
    webSocket: {
      maxSubscriptionsPerConnection: raw.WS_MAX_SUBSCRIPTIONS_PER_CONNECTION,
      maxSubscriptionsPerTenant: raw.WS_MAX_SUBSCRIPTIONS_PER_TENANT,
      maxConnectionsPerTenant: raw.WS_MAX_CONNECTIONS_PER_TENANT,
      keepAliveMs: raw.WS_KEEPALIVE_MS,
      bufferPerSubscriber: raw.WS_BUFFER_PER_SUBSCRIBER,
      tenantQuotasInPrimary: workers > 1,
    },
    subgraphUrlOverrides: overrides,
    tracing: tracingOptions(raw, "gateway"),
  };
}
