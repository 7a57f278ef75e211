/**
 * `pnpm start`: PostgreSQL → PocketBase → six subgraphs → gateway, all on this machine, data in one
 * directory; Ctrl-C or SIGTERM stops everything that was started here, in reverse order.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { configOrExit, loadDotEnv } from "@kombify/service-core/config";
import { createLogger } from "@kombify/service-core/logging";
import { errorMessage } from "@kombify/service-core/errors";
import { LocalOidcIssuer } from "./oidc/local-oidc-issuer.js";
import { SUBGRAPHS } from "@kombify/service-core/federation";
import { DASHBOARD_DIST, ensureDashboardBuilt, startDashboardServer } from "../../clients/dashboard/src/index.js";
import { prepareSimulationEngine } from "./docker/sim-node-image.js";
import { parseLauncherConfig } from "./config.js";
import { loadOrCreateContextKeys } from "./keys/context-keys.js";
import { pocketBaseBinary } from "@kombify/pocketbase-process";
import { redact } from "./postgres/postgres-database.js";
import { DEMO_USER, seedDemoTenant } from "./seed/demo-seed.js";
import { assertPortFree } from "./services/ports.js";
import { startStoresProcess } from "./services/service-process.js";
import { startSupergraphProcesses } from "./services/supergraph-processes.js";

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
  await assertPortFree(config.METRICS_PORT, config.METRICS_HOST, "METRICS_PORT");
  for (const { port } of subgraphPorts) await assertPortFree(port, "127.0.0.1", "SUBGRAPH_PORT_BASE");
  await assertPortFree(config.DASHBOARD_PORT, config.DASHBOARD_HOST, "DASHBOARD_PORT");
  // The dashboard builds (only when its sources changed since the last build) while everything else starts.
  const dashboardBuild = ensureDashboardBuilt().then(
    () => null,
    (error: Error) => error.message.split("\n")[0],
  );

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
  const simulationEngine = await prepareSimulationEngine(config.DOCKER_HOST).catch((error: Error) => ({ problem: error.message }));
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
    // New KombiStack instances are PocketBase children of the tenant service, their data beside the rest.
    INSTANCE_PROVISIONER: process.env.INSTANCE_PROVISIONER ?? "process",
    INSTANCE_PROCESS_DATA_DIR: process.env.INSTANCE_PROCESS_DATA_DIR ?? join(config.dataDir, "instances"),
  };
  const { subgraphs: started, gateway, gatewayLocalUrl, metricsUrl } = await startSupergraphProcesses({
    env: shared,
    contextKeys: keys,
    subgraphPorts,
    gateway: { host: config.HOST, port: config.PORT, oidc: { ...oidc, jwksUrl: devIssuer?.jwksUrl }, publicUrl: config.GATEWAY_PUBLIC_URL, metrics: { host: config.METRICS_HOST, port: config.METRICS_PORT } },
    onStarted: (service) => stops.push({ name: service.name, stop: service.stop }),
  });
  const gatewayUrl = gatewayLocalUrl.replace("//127.0.0.1:", "//localhost:");

  let demoToken: string | null = null;
  if (devIssuer) {
    demoToken = await devIssuer.mint({ ...DEMO_USER, expiresIn: "30d" });
    writeFileSync(join(config.dataDir, "demo-token"), `${demoToken}\n`, { mode: 0o600 });
    if (config.SEED_DEMO) await seedDemoTenant(gatewayLocalUrl, demoToken, join(config.dataDir, "demo-seeded"), log);
  }

  // Served apart from the gateway, which it proxies /graphql to (same origin for the page, no CORS). The demo token
  // exists only with the development issuer, never in production, and goes only to callers on this machine.
  const dashboardProblem = await dashboardBuild;
  let dashboardLine = `unavailable: its build failed (${dashboardProblem})`;
  if (!dashboardProblem) {
    const offered = demoToken;
    const dashboard = await startDashboardServer({
      distDir: DASHBOARD_DIST,
      gatewayUrl: gatewayLocalUrl,
      host: config.DASHBOARD_HOST,
      port: config.DASHBOARD_PORT,
      ...(offered ? { demoToken: () => offered } : {}),
    });
    stops.push({ name: "dashboard", stop: dashboard.stop });
    dashboardLine = `${dashboard.url.replace("//127.0.0.1:", "//localhost:")}/`;
  }

  const lines = [
    "",
    "kombify supergraph is up",
    `  GraphQL      ${gatewayUrl}/graphql   (health: /health, readiness: /ready)`,
    `  Metrics      ${metricsUrl}`,
    `  Dashboard    ${dashboardLine}`,
    ...started.map((service, index) => `  ${service.name.padEnd(20)} http://127.0.0.1:${subgraphPorts[index]!.port}/graphql`),
    // The billing subgraph's POST /webhooks/stripe (Kong routes its public /webhooks/stripe there): point Stripe at
    // it, e.g. `stripe listen --forward-to <this URL>` with STRIPE_WEBHOOK_SECRET set to the secret it prints.
    `  Webhooks     http://127.0.0.1:${subgraphPorts.find((subgraph) => subgraph.name === "billing")!.port}/webhooks/stripe   (Stripe)`,
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
