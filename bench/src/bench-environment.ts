import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
  type ServiceProcess,
} from "@kombify/launcher";

const SUPERUSER = { email: "bench@kombify.local", password: "bench-superuser-password" };

export interface BenchEnvironment {
  gatewayUrl: string;
  /** The gateway's GET /metrics (Prometheus text), on its own listener; its JSON view is at `${metricsUrl}.json`. */
  metricsUrl: string;
  stackUrl: string;
  issuer: LocalOidcIssuer;
  signer: TenantContextSigner;
  pb: PocketBase;
  stop(): Promise<void>;
}

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
  const { subgraphUrls, gatewayLocalUrl, metricsUrl } = await startSupergraphProcesses({
    env: {
      ...process.env,
      NODE_ENV: "production",
      LOG_LEVEL: "warn",
      DATABASE_URL: databaseUrl,
      POCKETBASE_URL: pocketbase.url,
      POCKETBASE_SUPERUSER_EMAIL: SUPERUSER.email,
      POCKETBASE_SUPERUSER_PASSWORD: SUPERUSER.password,
      ...extraEnv,
    },
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
  return {
    gatewayUrl: gatewayLocalUrl,
    metricsUrl,
    stackUrl: subgraphUrls[subgraphUrlVariable("stack")]!.replace(/\/graphql$/, ""),
    issuer,
    signer: new TenantContextSigner(await importContextSigningKey(keys.signingKey)),
    pb,
    stop: stopAll,
  };
}
