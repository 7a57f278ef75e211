import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { subgraphUrlVariable, type SubgraphName } from "@kombify/service-core/federation";
import type { ContextKeyPair } from "../keys/context-key-pair.js";
import { startServiceProcess, type ServiceProcess } from "./service-process.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

export interface SupergraphProcessesOptions {
  /** What every process gets: the stores' URLs and credentials, NODE_ENV, LOG_LEVEL and any extra settings. */
  env: NodeJS.ProcessEnv;
  contextKeys: ContextKeyPair;
  /** Where each subgraph listens, on 127.0.0.1. */
  subgraphPorts: { name: SubgraphName; port: number }[];
  gateway: {
    host: string;
    port: number;
    oidc: { issuer: string; audience: string; jwksUrl?: string };
    /** Extra Node.js flags for the gateway process (a profiler, say). */
    nodeArgs?: string[];
    /** Where clients reach the gateway (GATEWAY_PUBLIC_URL); by default its own address. */
    publicUrl?: string;
    /** The gateway's metrics listener (METRICS_HOST, METRICS_PORT). */
    metrics: { host: string; port: number };
  };
  /** Gets each process as soon as it is up, so the caller can stop it (newest first) whatever happens next. */
  onStarted(service: ServiceProcess): void;
}

/**
 * The six subgraphs, each its own process (started side by side), then the gateway process in front of them,
 * each answering its /ready before this resolves: what `pnpm start` and the benchmarks run.
 */
export async function startSupergraphProcesses(options: SupergraphProcessesOptions) {
  // The stackkit subgraph's download links name the gateway, which passes /downloads on to it: the subgraphs
  // start first, so they are told the gateway's address (fixed in advance) rather than asking it.
  const gatewayPublicUrl = options.gateway.publicUrl ?? `http://${publicHost(options.gateway.host)}:${options.gateway.port}`;
  const subgraphUrls: Record<string, string> = {};
  const subgraphs = await Promise.all(
    options.subgraphPorts.map(async ({ name, port }) => {
      subgraphUrls[subgraphUrlVariable(name)] = `http://127.0.0.1:${port}/graphql`;
      const service = await startServiceProcess({
        name: `subgraph ${name}`,
        entry: join(repoRoot, "subgraphs", name, "src", "main.ts"),
        env: {
          ...options.env,
          HOST: "127.0.0.1",
          PORT: String(port),
          CONTEXT_VERIFY_KEY: options.contextKeys.verifyKey,
          GATEWAY_PUBLIC_URL: gatewayPublicUrl,
        },
        readyUrl: `http://127.0.0.1:${port}/ready`,
      });
      options.onStarted(service);
      return service;
    }),
  );
  const { host, port, oidc } = options.gateway;
  // The address this machine reaches the gateway at, whatever interface it listens on.
  const localHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  const gateway = await startServiceProcess({
    name: "gateway",
    entry: join(repoRoot, "gateway", "src", "main.ts"),
    env: {
      ...options.env,
      ...subgraphUrls,
      HOST: host,
      PORT: String(port),
      CONTEXT_SIGNING_KEY: options.contextKeys.signingKey,
      METRICS_HOST: options.gateway.metrics.host,
      METRICS_PORT: String(options.gateway.metrics.port),
      OIDC_ISSUER: oidc.issuer,
      OIDC_AUDIENCE: oidc.audience,
      ...(oidc.jwksUrl ? { OIDC_JWKS_URL: oidc.jwksUrl } : {}),
      // One gateway process unless told otherwise: the six subgraphs and the stores share this machine's cores with
      // it, and what runs here (development, the benchmarks) measures one process. GATEWAY_WORKERS says otherwise.
      GATEWAY_WORKERS: options.env.GATEWAY_WORKERS || "1",
    },
    nodeArgs: options.gateway.nodeArgs,
    readyUrl: `http://${localHost}:${port}/ready`,
  });
  options.onStarted(gateway);
  const metrics = options.gateway.metrics;
  const metricsLocalHost = metrics.host === "0.0.0.0" || metrics.host === "::" ? "127.0.0.1" : metrics.host;
  return { subgraphs, gateway, subgraphUrls, gatewayLocalUrl: `http://${localHost}:${port}`, metricsUrl: `http://${metricsLocalHost}:${metrics.port}/metrics` };
}

/** How a client on this machine names an interface the gateway listens on (any interface: localhost). */
function publicHost(host: string): string {
  if (host === "0.0.0.0" || host === "::") return "localhost";
  return host.includes(":") ? `[${host}]` : host;
}
