import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import PocketBase from "pocketbase";
import { createLogger } from "@kombify/service-core/logging";
import { generateContextKeyPair, LocalOidcIssuer } from "@kombify/launcher";
import { importContextSigningKey, TenantContextSigner } from "@kombify/service-core/tenant-context";
import { SUBGRAPHS, subgraphUrlVariable } from "@kombify/service-core/federation";
import {
  dropDatabaseAndDescendants,
  ensureDatabaseExists,
  freePort,
  pocketBaseBinary,
  startEmbeddedPostgres,
  startPocketBase,
  startSupergraphProcesses,
  waitForOk,
  type ServiceProcess,
} from "@kombify/launcher";

const SUPERUSER = { email: "bench@kombify.local", password: "bench-superuser-password" };

export interface BenchEnvironment {
  gatewayUrl: string;
  /** The gateway's GET /metrics (Prometheus text), on its own listener; its JSON view is at `${metricsUrl}.json`. */
  metricsUrl: string;
  stackUrl: string;
  /** Each subgraph's GraphQL endpoint by its variable (SUBGRAPH_<NAME>_URL), as the gateways are given them. */
  subgraphUrls: Record<string, string>;
  issuer: LocalOidcIssuer;
  signer: TenantContextSigner;
  pb: PocketBase;
  /** The subgraph and gateway processes the launcher started (to pin them to a core, say). */
  services: ServiceProcess[];
  /**
   * Another gateway process over the same subgraphs, configured like the first plus `env`, optionally pinned to
   * one core (`taskset -c`); stopped with the environment at the latest.
   */
  startGateway(env: NodeJS.ProcessEnv, options?: { cpu?: number }): Promise<{ url: string; metricsUrl: string; pid: number; stop(): Promise<void> }>;
  stop(): Promise<void>;
}

const GATEWAY_MAIN = fileURLToPath(new URL("../../gateway/src/main.ts", import.meta.url));

/** The real thing, on this machine: PostgreSQL, PocketBase, six subgraph processes and a gateway process. */
export async function startBenchEnvironment(extraEnv: NodeJS.ProcessEnv): Promise<BenchEnvironment> {
  const dataDir = mkdtempSync(join(tmpdir(), "kombify-bench-"));
  chmodSync(dataDir, 0o755);
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    return await start(dataDir, stops, stopAll, extraEnv);
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function start(dataDir: string, stops: (() => Promise<void>)[], stopAll: () => Promise<void>, extraEnv: NodeJS.ProcessEnv): Promise<BenchEnvironment> {
  const log = createLogger("bench", "warn");
  let databaseUrl: string;
  if (process.env.DATABASE_URL) {
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = `/kombify_bench_${Date.now()}`;
    databaseUrl = url.toString();
    stops.push(() => dropDatabaseAndDescendants(databaseUrl));
  } else {
    const embedded = await startEmbeddedPostgres(dataDir, await freePort(), log);
    stops.push(embedded.stop);
    databaseUrl = embedded.url;
  }
  await ensureDatabaseExists(databaseUrl);
  const pocketbase = await startPocketBase({ binary: pocketBaseBinary(), dataDir, port: await freePort(), superuser: SUPERUSER, log });
  stops.push(pocketbase.stop);
  const keys = await generateContextKeyPair();
  const issuer = await LocalOidcIssuer.start({ audience: "kombify-bench" });
  stops.push(() => issuer.stop());

  const subgraphPorts = [];
  for (const { name } of SUBGRAPHS) subgraphPorts.push({ name, port: await freePort() });
  const services: ServiceProcess[] = [];
  stops.push(async () => {
    for (const service of [...services].reverse()) await service.stop().catch(() => {});
  });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "production",
    LOG_LEVEL: "warn",
    DATABASE_URL: databaseUrl,
    POCKETBASE_URL: pocketbase.url,
    POCKETBASE_SUPERUSER_EMAIL: SUPERUSER.email,
    POCKETBASE_SUPERUSER_PASSWORD: SUPERUSER.password,
    // Production wants the address download links name; no benchmark downloads anything.
    STACKKIT_PUBLIC_URL: "http://127.0.0.1/bench",
    // Production requires the platform's organisation; the benchmark's callers are no platform admins.
    PLATFORM_ORG_ID: "kombify-bench-platform",
    ...extraEnv,
  };
  const { subgraphUrls, gatewayLocalUrl, metricsUrl } = await startSupergraphProcesses({
    env,
    contextKeys: keys,
    subgraphPorts,
    gateway: {
      host: "127.0.0.1",
      port: await freePort(),
      metrics: { host: "127.0.0.1", port: await freePort() },
      oidc: { issuer: issuer.issuer, audience: "kombify-bench", jwksUrl: issuer.jwksUrl },
      // KOMBIFY_BENCH_PROFILE_DIR: a V8 CPU profile of the gateway process, written when it exits.
      nodeArgs: process.env.KOMBIFY_BENCH_PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${process.env.KOMBIFY_BENCH_PROFILE_DIR}`] : [],
    },
    onStarted: (service) => services.push(service),
  });
  const pb = new PocketBase(pocketbase.url);
  pb.autoCancellation(false);
  await pb.collection("_superusers").authWithPassword(SUPERUSER.email, SUPERUSER.password);
  const startGateway: BenchEnvironment["startGateway"] = async (overrides, options = {}) => {
    const [port, metricsPort] = [await freePort(), await freePort()];
    const node = [process.execPath, "--import", import.meta.resolve("tsx"), GATEWAY_MAIN];
    const command = options.cpu === undefined ? node : ["taskset", "-c", String(options.cpu), ...node];
    const child = spawn(command[0]!, command.slice(1), {
      env: {
        ...env,
        ...subgraphUrls,
        HOST: "127.0.0.1",
        PORT: String(port),
        METRICS_HOST: "127.0.0.1",
        METRICS_PORT: String(metricsPort),
        CONTEXT_SIGNING_KEY: keys.signingKey,
        OIDC_ISSUER: issuer.issuer,
        OIDC_AUDIENCE: "kombify-bench",
        OIDC_JWKS_URL: issuer.jwksUrl,
        ...overrides,
      },
      stdio: ["ignore", "inherit", "inherit"],
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    };
    stops.push(stop);
    await waitForOk(`http://127.0.0.1:${port}/ready`, 90_000, () => (child.exitCode !== null ? "the extra gateway exited during start-up" : null));
    return { url: `http://127.0.0.1:${port}`, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`, pid: child.pid!, stop };
  };
  return {
    gatewayUrl: gatewayLocalUrl,
    metricsUrl,
    stackUrl: subgraphUrls[subgraphUrlVariable("stack")]!.replace(/\/graphql$/, ""),
    subgraphUrls,
    issuer,
    signer: new TenantContextSigner(await importContextSigningKey(keys.signingKey)),
    pb,
    services,
    startGateway,
    stop: stopAll,
  };
}
