import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGateway, startTestSupergraph, uniqueSuffix, type TestSupergraph } from "@kombify/testkit";
import type { RunningGateway } from "../src/gateway-server.js";

type Mode = ((req: IncomingMessage, body: Buffer, res: ServerResponse) => void) | null;

/** A real proxy in front of a subgraph whose answers a test may replace (mode) or hold back, recording each request's context. */
async function manglingProxy(target: string) {
  const upstream = new URL(target);
  const state = { mode: null as Mode, holdMs: 0, seen: [] as { context: string; body: string }[] };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      state.seen.push({ context: String(req.headers["x-kombify-context"]), body: body.toString() });
      if (state.mode) return state.mode(req, body, res);
      const forward = () => {
        const outgoing = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: upstream.pathname, headers: { ...req.headers, host: upstream.host } }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        outgoing.end(body);
      };
      if (state.holdMs > 0) setTimeout(forward, state.holdMs);
      else forward();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    state,
    stop: () => new Promise<void>((resolve) => (server.close(() => resolve()), server.closeAllConnections())),
  };
}

const json = (value: unknown, status = 200) => (_req: IncomingMessage, _body: Buffer, res: ServerResponse) => {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(typeof value === "string" ? value : JSON.stringify(value));
};

async function post(url: string, query: string, token?: string, variables?: unknown) {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = { raw: text };
  }
  return { status: response.status, body, text };
}

const payloadOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString());

describe("the federated executor against hostile and broken subgraphs", () => {
  let graph: TestSupergraph;
  let gateway: RunningGateway;
  let stackkit: Awaited<ReturnType<typeof manglingProxy>>;
  let stack: Awaited<ReturnType<typeof manglingProxy>>;
  let owner: string;
  let member: string;

  beforeAll(async () => {
    graph = await startTestSupergraph();
    stackkit = await manglingProxy(`${graph.subgraphs.stackkit.url}/graphql`);
    stack = await manglingProxy(`${graph.subgraphs.stack.url}/graphql`);
    gateway = await startTestGateway(graph.issuer, graph.subgraphs, { SUBGRAPH_STACKKIT_URL: stackkit.url, SUBGRAPH_STACK_URL: stack.url, SUBGRAPH_TIMEOUT_MS: "1000" });
    const orgId = `org-probe-${uniqueSuffix()}`;
    owner = await graph.issuer.mint({ sub: `owner-${uniqueSuffix()}`, email: "o@example.test", orgId, roles: ["tenant:owner"] });
    member = await graph.issuer.mint({ sub: `member-${uniqueSuffix()}`, email: "m@example.test", orgId, roles: ["tenant:member"] });
    expect((await post(gateway.url, `mutation { createTenant(name: "Probe", slug: "probe-${uniqueSuffix()}") { id } }`, owner)).body.errors).toBeUndefined();
  });
  afterAll(async () => {
    await gateway?.stop();
    await Promise.all([stackkit?.stop(), stack?.stop()]);
    await graph?.stop();
  });

  it("dedupe: two users of one tenant with different roles, and a user and anonymous, never share a fetch", async () => {
    stackkit.state.seen = [];
    stackkit.state.holdMs = 300;
    try {
      const answers = await Promise.all([post(gateway.url, "{ stackKits { id entitled } }", owner), post(gateway.url, "{ stackKits { id entitled } }", member), post(gateway.url, "{ stackKits { id entitled } }")]);
      for (const answer of answers) expect(answer.body.errors).toBeUndefined();
      const subs = stackkit.state.seen.map((seen) => payloadOf(seen.context).sub ?? "anonymous");
      expect(new Set(subs).size).toBe(3);
    } finally {
      stackkit.state.holdMs = 0;
    }
  });

  it("a captured context naming several operations runs only those, only at its subgraph", async () => {
    stack.state.seen = [];
    // stacks from the stack subgraph, and myTenant's stacks through it as entities: two operations, one context.
    const answer = await post(gateway.url, "{ stacks { id } myTenant { stacks { name } } }", owner);
    expect(answer.body.errors).toBeUndefined();
    const captured = stack.state.seen[0]!.context;
    expect(payloadOf(captured).ops).toHaveLength(2);
    expect(new Set(stack.state.seen.map((seen) => seen.context)).size).toBe(1);
    const named = JSON.parse(stack.state.seen.find((seen) => !seen.body.includes("_entities"))!.body) as { query: string };
    const direct = (url: string, query: string) =>
      fetch(`${url}/graphql`, { method: "POST", headers: { "content-type": "application/json", "x-kombify-context": captured }, body: JSON.stringify({ query }) }).then((response) => response.json() as Promise<any>);
    // Replayed within its life for an operation it names, it works (the design's accepted bound): the holder runs what the gateway ran.
    expect((await direct(graph.subgraphs.stack.url, named.query)).errors).toBeUndefined();
    // Any other operation at that subgraph, or the same one at another subgraph, runs as nobody.
    for (const [url, query] of [
      [graph.subgraphs.stack.url, "{ stacks { id name } }"],
      [graph.subgraphs.stack.url, `${named.query} `],
      [graph.subgraphs.tenant.url, "{ myTenant { id } }"],
      [graph.subgraphs.tenant.url, named.query],
    ] as const) {
      const replayed = await direct(url, query);
      expect(replayed.errors?.[0]?.extensions?.code, `${url} ${query}`).toMatch(/UNAUTHENTICATED|FORBIDDEN|GRAPHQL_VALIDATION_FAILED/);
    }
  });

  it("a subgraph 500 with a stack: coded error, no stack", async () => {
    stackkit.state.mode = (_q, _b, res) => (res.writeHead(500, { "content-type": "text/html" }), res.end("<pre>Error: boom\n    at secret.js:1:1</pre>"));
    const answer = await post(gateway.url, "{ stackKits { id } }");
    stackkit.state.mode = null;
    expect(answer.body.errors[0].extensions.code).toBe("UNAVAILABLE");
    expect(answer.text).not.toContain("secret.js");
  });

  it("a subgraph answering non-JSON that starts with {: coded error, no crash", async () => {
    stackkit.state.mode = json("{this is not json");
    const answer = await post(gateway.url, "{ stackKits { id } }");
    stackkit.state.mode = null;
    expect(answer.status).toBe(200);
    expect(answer.body.errors[0].extensions.code).toBe("UNAVAILABLE");
  });

  it("a subgraph answering an object where a list was planned to be flattened: coded error, partial data", async () => {
    stack.state.mode = json({ data: { stacks: { __typename: "Stack", id: "s1", name: "x", stackKit: { __typename: "StackKit", id: "base-homelab" } } } });
    const answer = await post(gateway.url, "{ stacks { id stackKit { name } } }", owner);
    stack.state.mode = null;
    expect(answer.status).toBe(200);
    expect(answer.body.data).toBeNull();
    expect(answer.body.extensions.valueCompletion[0]).toMatchObject({ path: ["stacks"], extensions: { code: "INVALID_GRAPHQL" } });
    expect(answer.text).not.toContain("    at ");
  });

  it("a subgraph answering errors that are not a list, or data that is a string", async () => {
    for (const garbage of [{ errors: 5 }, { errors: "boom", data: null }, { data: "x" }, { data: [] }, { errors: [null] }]) {
      stackkit.state.mode = json(garbage);
      const answer = await post(gateway.url, "{ stackKits { id tier } }");
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ data: null, errors: [{ message: "The stackkit service is unavailable; try again shortly.", extensions: { code: "UNAVAILABLE" } }] });
    }
    for (const garbage of [{ data: { stackKits: [1, "a", null] } }, { data: { stackKits: [{ __typename: "Hidden", id: "1" }] } }, { data: { stackKits: [{ id: "1", tier: "SECRET" }] } }]) {
      stackkit.state.mode = json(garbage);
      const answer = await post(gateway.url, "{ stackKits { id tier } }");
      expect(answer.status).toBe(200);
      expect(answer.body.extensions.valueCompletion[0].extensions.code).toBe("INVALID_GRAPHQL");
      expect(answer.text).not.toContain("SECRET");
      expect(answer.text).not.toContain("Hidden");
      expect(answer.text).not.toContain("    at ");
    }
    stackkit.state.mode = null;
  });

  it("a slow subgraph (no headers) is UNAVAILABLE within the timeout", async () => {
    stackkit.state.mode = (_q, _b, res) => void setTimeout(() => json({ data: { stackKits: [] } })(_q, _b, res), 3000);
    const started = Date.now();
    const answer = await post(gateway.url, "{ stackKits { id } }");
    stackkit.state.mode = null;
    expect(answer.body.errors[0].extensions.code).toBe("UNAVAILABLE");
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it("a subgraph trickling its body is UNAVAILABLE within the timeout", async () => {
    stackkit.state.mode = (_q, _b, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"data":{"stackKits":[');
      let sent = 0;
      const timer = setInterval(() => {
        if (res.destroyed || sent++ > 12) {
          clearInterval(timer);
          if (!res.destroyed) res.end("]}}");
          return;
        }
        res.write(" ");
      }, 400);
    };
    const started = Date.now();
    const answer = await post(gateway.url, "{ stackKits { id } }");
    stackkit.state.mode = null;
    expect(answer.body.errors?.[0]?.extensions?.code).toBe("UNAVAILABLE");
    expect(Date.now() - started).toBeLessThan(2500);
  }, 20_000);

  it("a huge subgraph body", async () => {
    const big = JSON.stringify({ data: { stackKits: Array.from({ length: 200_000 }, (_, i) => ({ id: `kit-${i}-${"x".repeat(200)}` })) } });
    stackkit.state.mode = json(big);
    const answer = await post(gateway.url, "{ stackKits { id } }");
    stackkit.state.mode = null;
    expect(answer.status).toBe(200);
    expect(answer.body.data.stackKits).toHaveLength(200_000);
  }, 30_000);

  it("variables of the wrong type are refused with a code", async () => {
    const answer = await post(gateway.url, "query ($t: PlanTier) { stackKits(tier: $t) { id } }", undefined, { t: 5 });
    const answer2 = await post(gateway.url, "query ($t: PlanTier!) { stackKits(tier: $t) { id } }", undefined, {});
    expect(answer.body.errors[0].extensions.code).toBe("BAD_USER_INPUT");
    expect(answer2.body.errors[0].extensions.code).toBe("BAD_USER_INPUT");
  });

  it("@include with a default-true variable left out", async () => {
    const answer = await post(gateway.url, "query ($show: Boolean = true) { stackKits { id name @include(if: $show) } }");
    const explicit = await post(gateway.url, "query ($show: Boolean = true) { stackKits { id name @include(if: $show) } }", undefined, { show: true });
    expect(answer.body.data.stackKits[0].name).toBeTruthy();
    expect(answer.body).toEqual(explicit.body);
  });

  it("introspection, when disabled, is refused with a code wherever it hides", async () => {
    const closed = await startTestGateway(graph.issuer, graph.subgraphs, { INTROSPECTION_ENABLED: "false" });
    try {
      for (const query of ["{ __schema { queryType { name } } }", '{ stackKits { id } ...F } fragment F on Query { __type(name: "Query") { name } }', "{ stackKits { ... on StackKit { id __typename } } }"]) {
        const answer = await post(closed.url, query);
        if (query.includes("__typename")) expect(answer.body.errors).toBeUndefined();
        else expect(answer.body.errors[0].extensions.code).toMatch(/GRAPHQL_VALIDATION_FAILED|BAD_USER_INPUT|FORBIDDEN/);
        expect(answer.text).not.toContain('"Query"');
      }
    } finally {
      await closed.stop();
    }
  });

  it("a mutation's fetches are never shared with another request's in flight", async () => {
    stack.state.seen = [];
    stackkit.state.seen = [];
    stackkit.state.holdMs = 300;
    try {
      const name = () => `dedupe-${uniqueSuffix()}`;
      const [a, b] = await Promise.all([1, 2].map(() => post(gateway.url, `mutation { createStack(name: "${name()}", stackKitId: "base-homelab", nodes: [{ hostname: "n1", address: "10.0.0.1" }]) { stackKit { name } } }`, owner)));
      expect(a!.body.errors).toBeUndefined();
      expect(b!.body.errors).toBeUndefined();
      expect(stackkit.state.seen.length).toBe(2);
    } finally {
      stackkit.state.holdMs = 0;
    }
  });
});
