import { createHash } from "node:crypto";
import { createServer, request, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGateway, startTestSupergraph, uniqueSuffix, type TestSupergraph } from "@kombify/testkit";
import type { RunningGateway } from "../src/gateway-server.js";

interface Seen {
  requestId: string;
  context: string;
  query: string;
}

/** A real proxy in front of a subgraph that records each request (its headers and body) and its connections, and can hold answers back. */
async function recordingProxy(target: string, holdMs = 0) {
  const upstream = new URL(target);
  const seen: Seen[] = [];
  let connections = 0;
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      seen.push({ requestId: String(req.headers["x-request-id"]), context: String(req.headers["x-kombify-context"]), query: (JSON.parse(body.toString()) as { query: string }).query });
      const forward = () => {
        const outgoing = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: upstream.pathname, headers: { ...req.headers, host: upstream.host } }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        outgoing.end(body);
      };
      if (holdMs > 0) setTimeout(forward, holdMs);
      else forward();
    });
  });
  server.on("connection", () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    seen,
    connections: () => connections,
    reset: () => void seen.splice(0),
    stop: () => new Promise<void>((resolve) => (server.close(() => resolve()), server.closeAllConnections())),
  };
}

const payloadOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString()) as { aud: string; op?: string; ops?: string[]; rid: string };
const hashOf = (query: string) => createHash("sha256").update(query).digest("base64url");

async function post(url: string, query: string, token?: string) {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
}

describe("how the gateway fetches from subgraphs", () => {
  let graph: TestSupergraph;
  let gateway: RunningGateway;
  let stackkit: Awaited<ReturnType<typeof recordingProxy>>;
  let tenantSubgraph: Awaited<ReturnType<typeof recordingProxy>>;
  let stack: Awaited<ReturnType<typeof recordingProxy>>;
  const tokens: string[] = [];

  beforeAll(async () => {
    graph = await startTestSupergraph();
    // Catalog answers held back 300 ms, so that requests sent together are in flight together.
    stackkit = await recordingProxy(`${graph.subgraphs.stackkit.url}/graphql`, 300);
    tenantSubgraph = await recordingProxy(`${graph.subgraphs.tenant.url}/graphql`);
    stack = await recordingProxy(`${graph.subgraphs.stack.url}/graphql`);
    gateway = await startTestGateway(graph.issuer, graph.subgraphs, {
      SUBGRAPH_STACKKIT_URL: stackkit.url,
      SUBGRAPH_TENANT_URL: tenantSubgraph.url,
      SUBGRAPH_STACK_URL: stack.url,
      SUBGRAPH_CONNECTIONS: "4",
    });
    for (const name of ["a", "b"]) {
      const token = await graph.issuer.mint({ sub: `user-${name}-${uniqueSuffix()}`, email: `${name}@example.test`, orgId: `org-${name}-${uniqueSuffix()}`, roles: ["tenant:owner"] });
      expect((await post(gateway.url, `mutation { createTenant(name: "Fetching ${name}", slug: "fetching-${name}-${uniqueSuffix()}") { id } }`, token)).errors).toBeUndefined();
      tokens.push(token);
    }
  });
  afterAll(async () => {
    await gateway?.stop();
    await Promise.all([stackkit?.stop(), tenantSubgraph?.stop(), stack?.stop()]);
    await graph?.stop();
  });

  it("answers identical anonymous queries in flight together with one subgraph fetch, each its own complete answer", async () => {
    stackkit.reset();
    const answers = await Promise.all(Array.from({ length: 20 }, () => post(gateway.url, "{ stackKits { id name version } }")));
    for (const answer of answers) {
      expect(answer.errors).toBeUndefined();
      expect(answer.data.stackKits.length).toBeGreaterThan(0);
      expect(answer).toEqual(answers[0]);
    }
    expect(stackkit.seen.length).toBeLessThan(5);
  });

  it("never shares a fetch across tenants: two tenants' identical queries in flight each reach the subgraph", async () => {
    stackkit.reset();
    const [a, b] = await Promise.all(tokens.map((token) => post(gateway.url, "{ stackKits { id entitled } }", token)));
    expect(a!.errors).toBeUndefined();
    expect(b!.errors).toBeUndefined();
    const requestIds = new Set(stackkit.seen.map((seen) => seen.requestId));
    expect(requestIds.size).toBe(2);
    expect(new Set(stackkit.seen.map((seen) => payloadOf(seen.context).rid))).toEqual(requestIds);
  });

  it("signs one context per subgraph per request, naming every operation the request sends it", async () => {
    for (const proxy of [stackkit, tenantSubgraph, stack]) proxy.reset();
    // The tenant subgraph is asked twice: for myTenant at the root, and for the name of the caller's tenant (me, from identity).
    const answer = await post(gateway.url, "{ myTenant { id name plan { tier } stacks { id name stackKit { name } } } stackKits { id } me { id tenant { id name } } }", tokens[0]);
    expect(answer.errors).toBeUndefined();
    for (const proxy of [stackkit, tenantSubgraph, stack]) {
      const fetches = proxy.seen;
      if (fetches.length === 0) continue;
      expect(new Set(fetches.map((fetch) => fetch.context)).size).toBe(1);
      const payload = payloadOf(fetches[0]!.context);
      const named = payload.ops ?? [payload.op];
      for (const fetch of fetches) expect(named).toContain(hashOf(fetch.query));
    }
    expect(tenantSubgraph.seen.length).toBe(2);
    expect(payloadOf(tenantSubgraph.seen[0]!.context).ops).toHaveLength(2);
  });

  it("keeps its connections to a subgraph alive across requests, within SUBGRAPH_CONNECTIONS", async () => {
    const before = stack.connections();
    for (let i = 0; i < 30; i++) expect((await post(gateway.url, "{ myTenant { stacks { id } } }", tokens[1])).errors).toBeUndefined();
    expect(stack.connections() - before).toBeLessThanOrEqual(4);
  });
});
