import { z } from "zod";
import { recordAudit } from "../audit/audit-log.js";
import { ANONYMOUS } from "../auth/caller.js";
import { envTypes, parseEnv, ConfigError } from "../config/env.js";
import { connectDatabase, databaseAnswers, readInstallationId, type Database, type Db } from "../database/database.js";
import { applyMigrations, type MigrationSet } from "../database/migration-sets.js";
import { platformMigrations } from "../database/platform/schema.js";
import { inertDependency, type BuiltSubgraph } from "../federation/build-subgraph-schema.js";
import { createLogger, type Logger } from "../logging/logger.js";
import { PlanCatalog } from "../plans/plan-catalog.js";
import { PocketBaseConnections, pocketBaseAnswers } from "../pocketbase/pocketbase-connections.js";
import { StackKitCatalog } from "../stackkits/stackkit-catalog.js";
import { Tracing, tracingEnvShape, tracingOptions } from "../observability/tracing.js";
import { importContextVerifyKey, TenantContextVerifier } from "../tenant-context/tenant-context-token.js";
import { startSubgraphServer, type ReadinessChecks, type RouteHandler } from "./subgraph-server.js";

export const DEV_POCKETBASE_PASSWORD = "kombify-dev-superuser";

export function subgraphSettingsShape(defaultPort: number) {
  return {
    NODE_ENV: envTypes.nodeEnv(),
    LOG_LEVEL: envTypes.logLevel(),
    HOST: z.string().default("127.0.0.1").describe("the interface to listen on"),
    PORT: envTypes.port(defaultPort),
    DATABASE_URL: envTypes.postgresUrl(),
    CONTEXT_VERIFY_KEY: envTypes.pem("SPKI Ed25519 public key of the gateway's context signer"),
    POCKETBASE_URL: envTypes.url().default("http://127.0.0.1:8090"),
    POCKETBASE_SUPERUSER_EMAIL: z.email().default("admin@kombify.local").describe("an email address"),
    POCKETBASE_SUPERUSER_PASSWORD: z.string().min(10).default(DEV_POCKETBASE_PASSWORD).describe("at least 10 characters"),
    POCKETBASE_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000).describe("milliseconds before a PocketBase request fails"),
    PLANS_FILE: z.string().optional().describe("a path to a plans JSON file"),
    STACKKITS_DIR: z.string().optional().describe("a directory of StackKit definition files"),
    ...tracingEnvShape,
  };
}

export type SubgraphSettings = z.infer<z.ZodObject<ReturnType<typeof subgraphSettingsShape>>>;

export function parseSubgraphSettings(defaultPort: number, env: NodeJS.ProcessEnv = process.env): SubgraphSettings {
  const settings = parseEnv(subgraphSettingsShape(defaultPort), env);
  assertProductionSecrets(settings);
  return settings;
}

/** Development defaults for secrets are refused in production, by every entry point alike. */
export function assertProductionSecrets(settings: { NODE_ENV: string; POCKETBASE_SUPERUSER_PASSWORD: string }): void {
  if (settings.NODE_ENV === "production" && settings.POCKETBASE_SUPERUSER_PASSWORD === DEV_POCKETBASE_PASSWORD) {
    throw new ConfigError(["POCKETBASE_SUPERUSER_PASSWORD must be set to a secret of your own in production."]);
  }
}

/** Everything a subgraph's resolvers may depend on, built once per process. */
export interface SubgraphRuntime {
  name: string;
  settings: SubgraphSettings;
  env: NodeJS.ProcessEnv;
  log: Logger;
  database: Database;
  db: Db;
  /** This installation's identity, from the database: what labels its Docker containers. */
  installationId: string;
  pocketbase: PocketBaseConnections;
  /** Applies this service's own migrations (its schema only); a factory calls it first. */
  migrate(set: MigrationSet): Promise<void>;
  plans: PlanCatalog;
  stackkits: StackKitCatalog;
  checks: { database: () => Promise<boolean>; pocketbase: () => Promise<boolean> };
  /** The base URL this subgraph listens on (known once it listens; PORT=0 picks a free port). */
  listeningUrl(): string;
}

export interface SubgraphService {
  subgraph: BuiltSubgraph;
  readiness: ReadinessChecks;
  routes?: Record<string, RouteHandler>;
  /** Runs after migrations, before listening (seeding, background workers). */
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

export type SubgraphFactory = (runtime: SubgraphRuntime) => Promise<SubgraphService>;

export interface LaunchedSubgraph {
  url: string;
  runtime: SubgraphRuntime;
  stop(): Promise<void>;
}

/** Builds the runtime, applies migrations, starts the service and its HTTP server. */
export async function launchSubgraph(
  name: string,
  factory: SubgraphFactory,
  settings: SubgraphSettings,
  options: { env?: NodeJS.ProcessEnv; log?: Logger } = {},
): Promise<LaunchedSubgraph> {
  const log = options.log ?? createLogger(`subgraph-${name}`, settings.LOG_LEVEL);
  await applyMigrations(settings.DATABASE_URL, [platformMigrations]);
  const database = connectDatabase(settings.DATABASE_URL);
  const pocketbase = new PocketBaseConnections(
    { email: settings.POCKETBASE_SUPERUSER_EMAIL, password: settings.POCKETBASE_SUPERUSER_PASSWORD },
    settings.POCKETBASE_TIMEOUT_MS,
  );
  let listeningUrl: string | undefined;
  const runtime: SubgraphRuntime = {
    name,
    settings,
    env: options.env ?? process.env,
    log,
    database,
    db: database.db,
    installationId: await readInstallationId(database.db),
    pocketbase,
    migrate: (set) => applyMigrations(settings.DATABASE_URL, [set]),
    plans: PlanCatalog.load(settings.PLANS_FILE),
    stackkits: StackKitCatalog.load(settings.STACKKITS_DIR),
    checks: {
      database: () => databaseAnswers(database),
      pocketbase: () => pocketBaseAnswers(settings.POCKETBASE_URL),
    },
    listeningUrl() {
      if (!listeningUrl) throw new Error(`subgraph ${name} is not listening yet`);
      return listeningUrl;
    },
  };
  const service = await factory(runtime);
  await service.start?.();
  const verifier = new TenantContextVerifier(await importContextVerifyKey(settings.CONTEXT_VERIFY_KEY), name);
  const tracingSettings = tracingOptions(settings, `subgraph-${name}`);
  const tracing = tracingSettings ? Tracing.start(tracingSettings) : null;
  const running = await startSubgraphServer(
    {
      name,
      subgraph: service.subgraph,
      verifier,
      log,
      readiness: service.readiness,
      routes: service.routes,
      exposeInternalErrors: settings.NODE_ENV !== "production",
      tracing,
      onRejectedContext: (reason, requestId, req, suppressed) =>
        recordAudit(runtime.db, { caller: ANONYMOUS, requestId }, {
          action: "context.rejected",
          target: `subgraph:${name}`,
          details: { reason, remoteAddress: req.socket.remoteAddress ?? null, unrecordedBefore: suppressed },
        }),
    },
    settings.HOST,
    settings.PORT,
  );
  listeningUrl = running.url;
  log.info({ url: `${running.url}/graphql` }, "subgraph listening");
  return {
    url: running.url,
    runtime,
    async stop() {
      await running.close();
      await service.stop?.();
      await database.close();
      await tracing?.shutdown();
    },
  };
}

/** The runtime for building a subgraph's schema without any store (composition, SDL checks). */
export function schemaOnlyRuntime(name: string): SubgraphRuntime {
  const settings = parseSubgraphSettings(0, {
    DATABASE_URL: "postgres://schema-only/none",
    CONTEXT_VERIFY_KEY: "-----BEGIN PUBLIC KEY-----",
  });
  return {
    ...inertDependency<SubgraphRuntime>(`runtime(${name})`),
    name,
    settings,
    env: {},
    log: inertDependency("log"),
    database: inertDependency("database"),
    db: inertDependency("db"),
    installationId: "schema-only",
    pocketbase: inertDependency("pocketbase"),
    migrate: async () => {},
    plans: inertDependency("plans"),
    stackkits: inertDependency("stackkits"),
    checks: inertDependency("checks"),
    listeningUrl: inertDependency("listeningUrl"),
  };
}
