import { z } from "zod";
import { recordAudit } from "../audit/audit-log.js";
import { ANONYMOUS } from "../auth/caller.js";
import { envTypes, parseEnv } from "../config/env.js";
import { connectDatabase, databaseAnswers, readInstallationId, type Database, type Db } from "../database/database.js";
import { applyMigrations, type MigrationSet } from "../database/migration-sets.js";
import { platformMigrations } from "../database/platform/schema.js";
import { inertDependency, type BuiltSubgraph } from "../federation/build-subgraph-schema.js";
import { SUBGRAPHS, type SubgraphName } from "../federation/subgraph-registry.js";
import { createLogger, type Logger } from "../logging/logger.js";
import { Tracing, tracingEnvShape, tracingOptions } from "../observability/tracing.js";
import { importContextVerifyKey, TenantContextVerifier } from "../tenant-context/tenant-context-token.js";
import { startSubgraphServer, type ReadinessChecks, type RouteHandler } from "./subgraph-server.js";

/** The settings every subgraph process has: where it listens, its database, the gateway's context key, tracing. */
export function kernelSettingsShape(defaultPort: number) {
  return {
    NODE_ENV: envTypes.nodeEnv(),
    LOG_LEVEL: envTypes.logLevel(),
    HOST: z.string().default("127.0.0.1").describe("the interface to listen on"),
    PORT: envTypes.port(defaultPort),
    DATABASE_URL: envTypes.postgresUrl(),
    CONTEXT_VERIFY_KEY: envTypes.pem("SPKI Ed25519 public key of the gateway's context signer"),
    ...tracingEnvShape,
  };
}

export type KernelSettings = z.infer<z.ZodObject<ReturnType<typeof kernelSettingsShape>>>;

/**
 * A subgraph: its name, its own settings (a zod shape of environment variables beside the kernel's), and how to
 * build its service from the runtime and those settings, typed. Its `main.ts` parses both once
 * (`parseSubgraphSettings`) and hands them over; nothing below reads the environment.
 */
export interface SubgraphDefinition<Shape extends z.ZodRawShape = z.ZodRawShape> {
  name: SubgraphName;
  settings: Shape;
  /** Checks that need several settings at once (say, development secrets refused in production). */
  check?(settings: SubgraphSettingsOf<Shape>): void;
  create(runtime: SubgraphRuntime, settings: SubgraphSettingsOf<Shape>): Promise<SubgraphService>;
}

export type SubgraphSettingsOf<Shape extends z.ZodRawShape> = KernelSettings & z.infer<z.ZodObject<Shape>>;

/** Names the settings' shape once, so `create` and `check` are typed by it. */
export function defineSubgraph<Shape extends z.ZodRawShape>(definition: SubgraphDefinition<Shape>): SubgraphDefinition<Shape> {
  return definition;
}

/** The kernel's and the subgraph's settings from `env`, checked; `defaultPort` defaults to the registry's. */
export function parseSubgraphSettings<Shape extends z.ZodRawShape>(
  definition: SubgraphDefinition<Shape>,
  env: NodeJS.ProcessEnv,
  defaultPort: number = SUBGRAPHS.find((subgraph) => subgraph.name === definition.name)!.defaultPort,
): SubgraphSettingsOf<Shape> {
  const settings = parseEnv({ ...kernelSettingsShape(defaultPort), ...definition.settings }, env) as SubgraphSettingsOf<Shape>;
  definition.check?.(settings);
  return settings;
}

/** What the kernel gives every subgraph's service: its database, logger and identity. Stores and catalogs a subgraph builds itself. */
export interface SubgraphRuntime {
  name: string;
  settings: KernelSettings;
  log: Logger;
  database: Database;
  db: Db;
  /** This installation's identity, from the database: what labels its Docker containers. */
  installationId: string;
  /** Applies this service's own migrations (its schema only); a service applies them first. */
  migrate(set: MigrationSet): Promise<void>;
  checks: { database: () => Promise<boolean> };
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


export interface LaunchedSubgraph {
  url: string;
  runtime: SubgraphRuntime;
  stop(): Promise<void>;
}

/** Builds the runtime, applies migrations, starts the service and its HTTP server. */
export async function launchSubgraph<Shape extends z.ZodRawShape>(
  definition: SubgraphDefinition<Shape>,
  settings: SubgraphSettingsOf<Shape>,
  options: { log?: Logger } = {},
): Promise<LaunchedSubgraph> {
  const name = definition.name;
  const log = options.log ?? createLogger(`subgraph-${name}`, settings.LOG_LEVEL);
  await applyMigrations(settings.DATABASE_URL, [platformMigrations]);
  const database = connectDatabase(settings.DATABASE_URL);
  let listeningUrl: string | undefined;
  const runtime: SubgraphRuntime = {
    name,
    settings,
    log,
    database,
    db: database.db,
    installationId: await readInstallationId(database.db),
    migrate: (set) => applyMigrations(settings.DATABASE_URL, [set]),
    checks: { database: () => databaseAnswers(database) },
    listeningUrl() {
      if (!listeningUrl) throw new Error(`subgraph ${name} is not listening yet`);
      return listeningUrl;
    },
  };
  const service = await definition.create(runtime, settings);
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

/** A subgraph's schema without any store (composition, SDL checks): a runtime whose every dependency is inert. */
export async function buildSchemaOnly<Shape extends z.ZodRawShape>(definition: SubgraphDefinition<Shape>): Promise<BuiltSubgraph> {
  const settings = parseSubgraphSettings(definition, { DATABASE_URL: "postgres://schema-only/none", CONTEXT_VERIFY_KEY: "-----BEGIN PUBLIC KEY-----" }, 0);
  const runtime: SubgraphRuntime = {
    ...inertDependency<SubgraphRuntime>(`runtime(${definition.name})`),
    name: definition.name,
    settings,
    log: inertDependency("log"),
    database: inertDependency("database"),
    db: inertDependency("db"),
    installationId: "schema-only",
    migrate: async () => {},
    checks: inertDependency("checks"),
    listeningUrl: inertDependency("listeningUrl"),
  };
  return (await definition.create(runtime, settings)).subgraph;
}
