import { parseGatewayConfig, startGateway, type GatewayMetrics, type RunningGateway } from "@kombify/gateway";
import { createLogger } from "@kombify/service-core/logging";
import { LocalOidcIssuer } from "@kombify/launcher";
import { SUBGRAPHS, subgraphUrlVariable, type SubgraphName } from "@kombify/service-core/federation";
import { freePort } from "@kombify/launcher";
import { SUBGRAPH_DEFINITIONS } from "@kombify/schema";
import { scrapePrometheus, type PrometheusScrape } from "./prometheus-text.js";
import { testDatabaseUrl } from "./test-database.js";
import { postGraphQL, startTestSubgraph, testContextKeys, type GraphQLResponse, type TestSubgraph } from "./test-subgraph.js";

export const TEST_AUDIENCE = "kombify-test-project";
/** The platform's own organisation in tests: only its grant of platform:admin counts. */
export const TEST_PLATFORM_ORG = "kombify-platform-test";

export interface TestSupergraph {
  url: string;
  issuer: LocalOidcIssuer;
  subgraphs: Record<SubgraphName, TestSubgraph>;
  graphql<T = any>(query: string, options?: { token?: string; variables?: Record<string, unknown>; headers?: Record<string, string> }): Promise<GraphQLResponse<T>>;
  /** The gateway's GET /metrics.json, on its own listener. */
  metrics(): Promise<GatewayMetrics>;
  /** The gateway's GET /metrics as Prometheus scrapes it (text format, parsed; the text is `.text`), on its own listener. */
  scrapeMetrics(): Promise<PrometheusScrape>;
  stop(): Promise<void>;
}

/**
 * A gateway over test subgraphs with the run's database, context keys and `issuer`: the test supergraph's own,
 * or another one beside it (a replica, a production-configured one); `env` adds to or overrides its settings
 * (rate limits are off unless `env` sets RATE_LIMIT_ENABLED).
 */
export async function startTestGateway(issuer: LocalOidcIssuer, subgraphs: Record<SubgraphName, { url: string }>, env: NodeJS.ProcessEnv = {}): Promise<RunningGateway> {
  const keys = await testContextKeys();
  const config = parseGatewayConfig({
    NODE_ENV: "test",
    PORT: "0",
    METRICS_PORT: "0",
    DATABASE_URL: await testDatabaseUrl(),
    CONTEXT_SIGNING_KEY: keys.signingKey,
    OIDC_ISSUER: issuer.issuer,
    OIDC_AUDIENCE: TEST_AUDIENCE,
    PLATFORM_ORG_ID: TEST_PLATFORM_ORG,
    // Tests send hundreds of requests per tenant, and every anonymous one from 127.0.0.1: requests per minute are
    // off unless a test turns them on (gateway/test/rate-limits*.test.ts). No REDIS_URL: counters in the process.
    RATE_LIMIT_ENABLED: "false",
    ...Object.fromEntries(SUBGRAPHS.map(({ name }) => [subgraphUrlVariable(name), `${subgraphs[name].url}/graphql`])),
    ...env,
  });
  return startGateway(config, createLogger("gateway", process.env.TEST_LOG_LEVEL ?? "silent"));
}

/** The six subgraphs and the gateway, in this process, on free ports, with a local Zitadel-shaped issuer. */
export async function startTestSupergraph(options: { gatewayEnv?: NodeJS.ProcessEnv; subgraphEnv?: NodeJS.ProcessEnv } = {}): Promise<TestSupergraph> {
  const keys = await testContextKeys();
  const issuer = await LocalOidcIssuer.start({ audience: TEST_AUDIENCE });
  // Download links name the gateway, and the subgraphs (started first) must know it: its port is chosen before.
  // A lazily read address would mean config read after start; the price here is that another process could take
  // the port in between, and the gateway's start then fails loudly, naming the port.
  const gatewayPort = Number(options.gatewayEnv?.PORT) || (await freePort());
  const subgraphEnv = { GATEWAY_PUBLIC_URL: `http://127.0.0.1:${gatewayPort}`, ...options.subgraphEnv };
  const subgraphs = {} as Record<SubgraphName, TestSubgraph>;
  for (const { name } of SUBGRAPHS) subgraphs[name] = await startTestSubgraph(SUBGRAPH_DEFINITIONS[name], { keys, env: subgraphEnv });
  const gateway = await startTestGateway(issuer, subgraphs, { PORT: String(gatewayPort), TENANT_CACHE_TTL_MS: "0", ...options.gatewayEnv });
  return {
    url: gateway.url,
    issuer,
    subgraphs,
    graphql(query, { token, variables, headers } = {}) {
      return postGraphQL(`${gateway.url}/graphql`, { query, variables }, {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      });
    },
    async metrics() {
      return (await (await fetch(`${gateway.metricsUrl}/metrics.json`)).json()) as GatewayMetrics;
    },
    scrapeMetrics: () => scrapePrometheus(`${gateway.metricsUrl}/metrics`),
    async stop() {
      await gateway.stop();
      for (const subgraph of Object.values(subgraphs)) await subgraph.stop();
      await issuer.stop();
    },
  };
}
