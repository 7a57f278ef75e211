/**
 * `pnpm start`: PostgreSQL → PocketBase → six subgraphs → gateway, all on this machine, data in one
 * directory; Ctrl-C or SIGTERM stops everything that was started here, in reverse order.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  configOrExit,
  createLogger,
  errorMessage,
  LocalOidcIssuer,
  loadDotEnv,
  SUBGRAPHS,
  subgraphUrlVariable,
} from "@kombify/service-core";
import { prepareSimulationEngine } from "./docker/sim-node-image.js";
import { parseLauncherConfig } from "./config.js";
import { loadOrCreateContextKeys } from "./keys/context-keys.js";
import { pocketBaseBinary } from "./pocketbase/pocketbase-process.js";
import { redact } from "./postgres/postgres-database.js";
import { DEMO_USER, seedDemoTenant } from "./seed/demo-seed.js";
import { assertPortFree } from "./services/ports.js";
import { startServiceProcess, startStoresProcess } from "./services/service-process.js";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const DEV_AUDIENCE = "kombify-dev";

loadDotEnv();
const config = configOrExit(() => parseLauncherConfig());
const log = createLogger("launcher", config.LOG_LEVEL);
const stops: { name: string; stop: () => Promise<void> }[] = [];
let stopping: Promise<never> | null = null;

/** Stops what was started, newest first, once: a second signal while stopping waits for the first. */
function stopAll(exitCode: number): Promise<never> {
  stopping ??= (async () => {
    for (const { name, stop } of stops.reverse()) {
      await stop().catch((error) => log.error({ err: error }, `could not stop ${name}`));
    }
    process.exit(exitCode);
  })();
  return stopping;
}
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(signal, () => void stopAll(0));
// If whoever started us dies without passing on a signal (pnpm killed with SIGTERM or SIGKILL), we are
// re-parented: treat that as a stop, so nothing we started is left behind.
const parentAtStart = process.ppid;
setInterval(() => {
  if (process.ppid !== parentAtStart) void stopAll(0);
}, 500).unref();

try {
  mkdirSync(config.dataDir, { recursive: true });
  const subgraphPorts = SUBGRAPHS.map((subgraph, index) => ({ ...subgraph, port: config.SUBGRAPH_PORT_BASE + index }));
  // Everything that can be checked before starting anything is checked first.
  if (!config.POCKETBASE_URL) pocketBaseBinary(config.POCKETBASE_BINARY);
  await assertPortFree(config.PORT, config.HOST, "PORT");
  for (const { port } of subgraphPorts) await assertPortFree(port, "127.0.0.1", "SUBGRAPH_PORT_BASE");

  // The stores run under their own supervisor process, which stops them even if this process is killed.
  const stores = await startStoresProcess(process.env);
  stops.push({ name: stores.name, stop: stores.stop });
  const { databaseUrl, pocketbaseUrl } = stores;

  let oidc = config.OIDC_ISSUER ? { issuer: config.OIDC_ISSUER, audience: config.OIDC_AUDIENCE! } : null;
  let devIssuer: LocalOidcIssuer | null = null;
  if (!oidc) {
    await assertPortFree(config.DEV_ISSUER_PORT, "127.0.0.1", "DEV_ISSUER_PORT");
    devIssuer = await LocalOidcIssuer.start({
      audience: DEV_AUDIENCE,
      port: config.DEV_ISSUER_PORT,
      keyFile: join(config.dataDir, "dev-issuer-key.json"),
    });
    stops.push({ name: "development issuer", stop: () => devIssuer!.stop() });
    oidc = { issuer: devIssuer.issuer, audience: DEV_AUDIENCE };
  }

  // Simulations need a Docker engine and the node image; without them the rest works and they say why.
  const simulationEngine = await prepareSimulationEngine(process.env.DOCKER_HOST).catch((error: Error) => ({ problem: error.message }));
  const simulationsLine =
    "problem" in simulationEngine
      ? `unavailable: ${simulationEngine.problem}`
      : simulationEngine.reachable
        ? `Docker at ${simulationEngine.engine.address}${simulationEngine.image === "built" ? " (node image built)" : ""}`
        : `unavailable: ${simulationEngine.reason} (see README, "Simulations on Docker")`;

  const keys = await loadOrCreateContextKeys(config.dataDir);
  const shared = {
    ...process.env,
    NODE_ENV: config.NODE_ENV,
    LOG_LEVEL: config.LOG_LEVEL,
    DATABASE_URL: databaseUrl,
    POCKETBASE_URL: pocketbaseUrl,
    POCKETBASE_SUPERUSER_EMAIL: config.POCKETBASE_SUPERUSER_EMAIL,
    POCKETBASE_SUPERUSER_PASSWORD: config.POCKETBASE_SUPERUSER_PASSWORD,
  };
  const subgraphUrls: Record<string, string> = {};
  const started = await Promise.all(
    subgraphPorts.map(({ name, port }) => {
      subgraphUrls[subgraphUrlVariable(name)] = `http://127.0.0.1:${port}/graphql`;
      return startServiceProcess({
        name: `subgraph ${name}`,
        entry: join(repoRoot, "subgraphs", name, "src", "main.ts"),
        env: { ...shared, HOST: "127.0.0.1", PORT: String(port), CONTEXT_VERIFY_KEY: keys.verifyKey },
        readyUrl: `http://127.0.0.1:${port}/ready`,
      }).then((service) => {
        stops.push({ name: service.name, stop: service.stop });
        return service;
      });
    }),
  );
  const gatewayHost = config.HOST === "0.0.0.0" || config.HOST === "::" ? "127.0.0.1" : config.HOST;
  const gateway = await startServiceProcess({
    name: "gateway",
    entry: join(repoRoot, "gateway", "src", "main.ts"),
    env: {
      ...shared,
      ...subgraphUrls,
      HOST: config.HOST,
      PORT: String(config.PORT),
      CONTEXT_SIGNING_KEY: keys.signingKey,
      OIDC_ISSUER: oidc.issuer,
      OIDC_AUDIENCE: oidc.audience,
      ...(devIssuer ? { OIDC_JWKS_URL: devIssuer.jwksUrl } : {}),
    },
    readyUrl: `http://${gatewayHost}:${config.PORT}/ready`,
  });
  stops.push({ name: gateway.name, stop: gateway.stop });
  const gatewayUrl = `http://${gatewayHost === "127.0.0.1" ? "localhost" : gatewayHost}:${config.PORT}`;

  let demoToken: string | null = null;
  if (devIssuer) {
    demoToken = await devIssuer.mint({ ...DEMO_USER, expiresIn: "30d" });
    writeFileSync(join(config.dataDir, "demo-token"), `${demoToken}\n`, { mode: 0o600 });
    if (config.SEED_DEMO) await seedDemoTenant(`http://${gatewayHost}:${config.PORT}`, demoToken, join(config.dataDir, "demo-seeded"), log);
  }

  const lines = [
    "",
    "kombify supergraph is up",
    `  GraphQL      ${gatewayUrl}/graphql   (health: /health, readiness: /ready)`,
    ...started.map((service, index) => `  ${service.name.padEnd(20)} http://127.0.0.1:${subgraphPorts[index]!.port}/graphql`),
    `  PostgreSQL   ${redact(databaseUrl)}`,
    `  PocketBase   ${pocketbaseUrl}/_/`,
    `  Token issuer ${oidc.issuer}`,
    `  Simulations  ${simulationsLine}`,
    ...(demoToken ? [`  Demo token   ${join(config.dataDir, "demo-token")} (user ${DEMO_USER.email}, tenant "demo")`] : []),
    "Press Ctrl-C to stop everything.",
    "",
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  // A service that dies later takes the rest down with a clear line, rather than leaving "up" half true.
  for (const service of [stores, ...started, gateway]) {
    service.child.once("exit", (code, signal) => {
      if (stopping) return;
      process.stderr.write(`kombify: ${service.name} exited unexpectedly (${signal ?? `code ${code}`}); stopping everything.\n`);
      void stopAll(1);
    });
  }
  log.info({ gateway: `${gatewayUrl}/graphql` }, "ready");
} catch (error) {
  log.debug({ err: error }, "start-up failed");
  process.stderr.write(`kombify could not start: ${errorMessage(error)}\n`);
  await stopAll(1);
}
