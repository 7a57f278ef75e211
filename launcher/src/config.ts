import { resolve } from "node:path";
import { z } from "zod";
import { assertHomelabStoreSecrets, DEV_POCKETBASE_PASSWORD } from "@kombify/homelab-store";
import { ConfigError, envTypes, parseEnv } from "@kombify/service-core/config";
import { SUBGRAPHS } from "@kombify/service-core/federation";

const launcherShape = {
  NODE_ENV: envTypes.nodeEnv(),
  LOG_LEVEL: envTypes.logLevel(),
  KOMBIFY_DATA_DIR: z.string().default(".data").describe("a directory for PostgreSQL, PocketBase and key files"),
  HOST: z.string().default("127.0.0.1").describe("the interface the gateway listens on"),
  PORT: envTypes.fixedPort(4000),
  METRICS_HOST: z.string().default("127.0.0.1").describe("the interface the gateway's metrics listener binds to"),
  METRICS_PORT: envTypes.fixedPort(9464),
  SUBGRAPH_PORT_BASE: envTypes.fixedPort(4001, 65535 - SUBGRAPHS.length + 1),
  DATABASE_URL: envTypes.postgresUrl().optional(),
  EMBEDDED_POSTGRES_PORT: envTypes.fixedPort(54329),
  POCKETBASE_URL: envTypes.url().optional(),
  POCKETBASE_PORT: envTypes.fixedPort(8090),
  POCKETBASE_BINARY: z.string().optional().describe("a path to a PocketBase executable"),
  POCKETBASE_SUPERUSER_EMAIL: z.email().default("admin@kombify.local").describe("an email address"),
  POCKETBASE_SUPERUSER_PASSWORD: z.string().min(10).default(DEV_POCKETBASE_PASSWORD).describe("at least 10 characters"),
  OIDC_ISSUER: envTypes.url().optional(),
  OIDC_AUDIENCE: z.string().min(1).optional().describe("the Zitadel project id"),
  GATEWAY_PUBLIC_URL: envTypes.url().optional(),
  DEV_ISSUER_PORT: envTypes.fixedPort(4009),
  DASHBOARD_HOST: z.string().default("127.0.0.1").describe("the interface the dashboard listens on"),
  DASHBOARD_PORT: envTypes.fixedPort(4010),
  DOCKER_HOST: envTypes.dockerHost(),
  SEED_DEMO: envTypes.boolean(true),
};

export type LauncherConfig = z.infer<z.ZodObject<typeof launcherShape>> & { dataDir: string };

export function parseLauncherConfig(env: NodeJS.ProcessEnv = process.env): LauncherConfig {
  const config = parseEnv(launcherShape, env);
  if (config.NODE_ENV === "production" && !config.OIDC_ISSUER) {
    throw new ConfigError(["OIDC_ISSUER is required in production: the development sign-in is not for real users."]);
  }
  if (config.OIDC_ISSUER && !config.OIDC_AUDIENCE) throw new ConfigError(["OIDC_AUDIENCE is required with OIDC_ISSUER."]);
  assertHomelabStoreSecrets(config);
  return { ...config, dataDir: resolve(config.KOMBIFY_DATA_DIR) };
}
