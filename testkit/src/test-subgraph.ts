import { inject } from "vitest";
import type { Caller } from "@kombify/service-core/auth";
import type { SubgraphName } from "@kombify/service-core/federation";
import { REQUEST_ID_HEADER } from "@kombify/service-core/http";
import { launchSubgraph, parseSubgraphSettings, type SubgraphDefinition, type SubgraphRuntime } from "@kombify/service-core/server/subgraph-runtime";
import { importContextSigningKey, operationHash, TENANT_CONTEXT_HEADER, TenantContextSigner } from "@kombify/service-core/tenant-context";
import { PocketBaseConnections } from "@kombify/homelab-store";
import { generateContextKeyPair, type ContextKeyPair } from "@kombify/launcher";
import { TEST_SUPERUSER } from "./global-setup.js";
import { testDatabaseUrl } from "./test-database.js";
import { testSshPortRange } from "./test-docker.js";

export interface GraphQLResponse<T = any> {
  status: number;
  data?: T;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
  headers: Headers;
}

export interface TestSubgraph {
  name: SubgraphName;
  url: string;
  runtime: SubgraphRuntime;
  /** The run's PocketBase, as a superuser: for looking at what the subgraph left in a namespace. */
  pocketbase: PocketBaseConnections;
  pocketbaseUrl: string;
  /**
   * Calls the subgraph as the gateway would for `caller` (a context signed with `keys`, bound to `query`); pass
   * ANONYMOUS for an anonymous caller through the gateway. Without a caller: a direct call, with no context.
   */
  query<T = any>(query: string, options?: { variables?: Record<string, unknown>; caller?: Caller; headers?: Record<string, string> }): Promise<GraphQLResponse<T>>;
  /** The signed context the gateway would send this subgraph for `caller` with `query`, the exact operation text. */
  contextFor(caller: Caller, query: string): Promise<string>;
  stop(): Promise<void>;
}

let pocketbase: PocketBaseConnections | undefined;
/** Superuser connections to the run's PocketBase, one set per test file. */
export function testPocketBase(): PocketBaseConnections {
  pocketbase ??= new PocketBaseConnections(TEST_SUPERUSER, 60_000);
  return pocketbase;
}

/** The KombiStack instance every test tenant is placed on: the run's PocketBase. */
export const TEST_INSTANCE = { name: "test-instance", maxTenants: 10_000 };

let sharedKeys: Promise<ContextKeyPair> | undefined;
/** One context key pair per test file, shared by its subgraphs and gateway. */
export function testContextKeys(): Promise<ContextKeyPair> {
  sharedKeys ??= generateContextKeyPair();
  return sharedKeys;
}

export async function subgraphTestEnv(keys: ContextKeyPair): Promise<NodeJS.ProcessEnv> {
  return {
    NODE_ENV: "test",
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    PORT: "0",
    DATABASE_URL: await testDatabaseUrl(),
    POCKETBASE_URL: inject("pocketbaseUrl"),
    POCKETBASE_SUPERUSER_EMAIL: TEST_SUPERUSER.email,
    POCKETBASE_SUPERUSER_PASSWORD: TEST_SUPERUSER.password,
    CONTEXT_VERIFY_KEY: keys.verifyKey,
    // The run's one PocketBase serves every test file at once on a shared machine: be patient with it.
    POCKETBASE_TIMEOUT_MS: "60000",
    STACK_INSTANCE_NAME: TEST_INSTANCE.name,
    STACK_INSTANCE_MAX_TENANTS: String(TEST_INSTANCE.maxTenants),
    SIMULATION_SSH_PORTS: await testSshPortRange(),
    // Every test's tenants come from this one machine: the limits on creating tenants are tested where they are set.
    TENANT_CREATION_PER_ADDRESS: "100000",
    TENANT_CREATION_OVERALL: "100000",
    // Test files share one database: a plan change in one must not move another's tenants between instances.
    PLAN_PLACEMENT_REGIONS: "none",
  };
}

export async function postGraphQL<T>(url: string, body: unknown, headers: Record<string, string> = {}): Promise<GraphQLResponse<T>> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: { data?: T; errors?: GraphQLResponse["errors"] } = {};
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`Not JSON (${response.status}): ${text.slice(0, 300)}`);
  }
  return { status: response.status, data: parsed.data, errors: parsed.errors, headers: response.headers };
}

/** A real subgraph server on a free port over the run's PostgreSQL and PocketBase. */
export async function startTestSubgraph(
  definition: SubgraphDefinition<any>,
  options: { keys?: ContextKeyPair; env?: NodeJS.ProcessEnv } = {},
): Promise<TestSubgraph> {
  const name = definition.name;
  const keys = options.keys ?? (await testContextKeys());
  const env = { ...(await subgraphTestEnv(keys)), ...options.env };
  const launched = await launchSubgraph(definition, parseSubgraphSettings(definition, env, 0));
  const signer = new TenantContextSigner(await importContextSigningKey(keys.signingKey));
  return {
    name,
    url: launched.url,
    runtime: launched.runtime,
    pocketbase: testPocketBase(),
    pocketbaseUrl: inject("pocketbaseUrl"),
    async query(query, { variables, caller, headers } = {}) {
      const requestId = `test-${Math.random().toString(36).slice(2)}`;
      const context = caller ? await signer.sign(caller, requestId, name, operationHash(query)) : null;
      return postGraphQL(`${launched.url}/graphql`, { query, variables }, {
        [REQUEST_ID_HEADER]: requestId,
        ...(context ? { [TENANT_CONTEXT_HEADER]: context } : {}),
        ...headers,
      });
    },
    contextFor: (caller, query) => signer.sign(caller, `test-${Math.random().toString(36).slice(2)}`, name, operationHash(query)),
    stop: launched.stop,
  };
}
