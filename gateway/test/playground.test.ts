import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse, print } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collect, startTestGateway, startTestSupergraph, testContextKeys, uniqueSuffix, wsClient, type TestSupergraph } from "@kombify/testkit";
import { parseGatewayConfig } from "../src/config.js";
import { PLAYGROUND_TABS, prefersHtml } from "../src/http/playground.js";

type PlansAnswer = { data: { plans: { tier: string }[] } };

const BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";
const WATCH = "subscription Watch($stackId: ID) { jobUpdated(stackId: $stackId) { status progress } }";

/** The page's one inline script, whose hash the CSP must name. */
function inlineScript(html: string): string {
  return html.slice(html.indexOf("<script>") + "<script>".length, html.lastIndexOf("</script>"));
}

describe("the offline playground", () => {
  let graph: TestSupergraph;

  beforeAll(async () => {
    graph = await startTestSupergraph({ subgraphEnv: { DRY_RUN_STEP_DELAY_MS: "30" }, gatewayEnv: { WS_MAX_SUBSCRIPTIONS_PER_TENANT: "1" } });
  });
  afterAll(() => graph?.stop());

  /** A new tenant with one stack, and its owner's token. */
  async function ownerWithStack(): Promise<{ token: string; stackId: string; orgId: string }> {
    const orgId = `org-${uniqueSuffix()}`;
    const token = await graph.issuer.mint({ sub: `owner-${uniqueSuffix()}`, orgId, roles: ["tenant:owner"] });
    expect((await graph.graphql(`mutation { createTenant(name: "P", slug: "pg-${uniqueSuffix()}") { id } }`, { token })).errors).toBeUndefined();
    const stack = await graph.graphql('mutation { createStack(name: "lab", stackKitId: "base-homelab", nodes: [{ hostname: "n1", address: "10.0.0.1" }]) { id } }', { token });
    expect(stack.errors).toBeUndefined();
    return { token, stackId: stack.data.createStack.id, orgId };
  }

  /**
   * Deploys the stack until the watcher has seen an event: graphql-ws says nothing when a subscription has
   * started, so a deploy made too early is simply not seen, and the next one is.
   */
  async function deployUntilSeen(watcher: { events: unknown[] }, stackId: string, token: string): Promise<void> {
    for (let attempt = 0; attempt < 40 && watcher.events.length === 0; attempt++) {
      expect((await graph.graphql(`mutation { deployStack(id: "${stackId}") { id } }`, { token })).errors).toBeUndefined();
      for (let waited = 0; waited < 500 && watcher.events.length === 0; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it("serves GraphiQL to browsers at /graphql and at /graphiql, with a CSP that lets the page reach only its own origin", async () => {
    for (const path of ["/graphql", "/graphiql"]) {
      const response = await fetch(`${graph.url}${path}`, { headers: { accept: path === "/graphql" ? BROWSER_ACCEPT : "*/*" } });
      expect(response.status, path).toBe(200);
      expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
      const html = await response.text();
      expect(html).toContain("YogaGraphiQL.renderYogaGraphiQL");
      expect(html).toContain('"subscriptionsProtocol":"WS"');
      expect(html).toContain('"endpoint":"/graphql"');
      for (const tab of PLAYGROUND_TABS) expect(html).toContain(JSON.stringify(tab.query));
      // Nothing the page loads comes from elsewhere: no external script, stylesheet or font.
      expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)="(https?:)?\/\//i);
      expect(html).not.toMatch(/fonts\.googleapis|fonts\.gstatic|unpkg\.com|jsdelivr|cdn\./i);

      const csp = response.headers.get("content-security-policy")!;
      const directives: Record<string, string[]> = Object.fromEntries(csp.split(";").map((part) => part.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));
      const host = new URL(graph.url).host;
      expect(directives["default-src"]).toEqual(["'none'"]);
      expect(directives["connect-src"]).toEqual(["'self'", `ws://${host}`, `wss://${host}`]);
      expect(directives["script-src"]).toEqual([`'sha256-${createHash("sha256").update(inlineScript(html)).digest("base64")}'`]);
      expect(directives["frame-ancestors"]).toEqual(["'none'"]);
      for (const [name, values] of Object.entries(directives)) {
        for (const value of values) expect(value, name).toMatch(/^('[a-z0-9+/=-]+'|data:|blob:|wss?:\/\/127\.0\.0\.1:\d+)$/i);
      }
    }
    // Once is enough: the page is rendered at start and revalidated by its ETag.
    const first = await fetch(`${graph.url}/graphiql`, { headers: { "accept-encoding": "gzip" } });
    expect(first.headers.get("content-encoding")).toBe("gzip");
    await first.arrayBuffer();
    const again = await fetch(`${graph.url}/graphiql`, { headers: { "if-none-match": first.headers.get("etag")! } });
    expect(again.status).toBe(304);
    expect((await fetch(`${graph.url}/graphiql`, { method: "POST" })).status).toBe(405);
  });

  it("keeps answering API clients with JSON: GET with ?query= and POST", async () => {
    const get = await fetch(`${graph.url}/graphql?query=${encodeURIComponent("{ plans { tier } }")}`, { headers: { accept: "application/json", "apollo-require-preflight": "true" } });
    expect(get.status).toBe(200);
    expect(get.headers.get("content-type")).toMatch(/^application\/(graphql-response\+)?json/);
    expect(((await get.json()) as PlansAnswer).data.plans.length).toBeGreaterThan(0);
    // An API client asking for anything, or for JSON before HTML, is not a browser.
    for (const accept of ["*/*", "application/json, text/html;q=0.5", "application/graphql-response+json, application/json"]) expect(prefersHtml(accept), accept).toBe(false);
    expect(prefersHtml(BROWSER_ACCEPT)).toBe(true);
    expect((await graph.graphql("{ plans { tier } }")).data.plans.length).toBeGreaterThan(0);
  });

  it("checks the README's example operations are the playground's tabs", () => {
    const readme = readFileSync(fileURLToPath(new URL("../../README.md", import.meta.url)), "utf8");
    const section = (title: string) => readme.slice(readme.indexOf(title), readme.indexOf("\n##", readme.indexOf(title) + 1));
    const blocks = (text: string) => [...text.matchAll(/```(?:graphql|gql)\n([\s\S]*?)```/g)].map((match) => print(parse(match[1]!)));
    const tryIt = blocks(section("## Try it"));
    const liveJobStatus = blocks(section("### Live job status"));
    expect([...tryIt, ...liveJobStatus.slice(0, 1)]).toEqual(PLAYGROUND_TABS.map((tab) => print(parse(tab.query))));
    expect(readme).not.toMatch(/Apollo Sandbox/);
  });

  it("runs a subscription whose token comes only in its extensions.headers (GraphiQL's way), as that caller", async () => {
    const { token, stackId } = await ownerWithStack();
    const client = wsClient(`${graph.url}/graphql`);
    try {
      const watcher = collect(client, WATCH, { stackId }, { headers: { Authorization: `Bearer ${token}` } });
      await deployUntilSeen(watcher, stackId, token);
      const events = await watcher.until((all) => all.some((event) => event.data?.jobUpdated.status === "SUCCEEDED"));
      expect(events.every((event) => event.errors === undefined)).toBe(true);
      expect(events.map((event) => event.data!.jobUpdated.status)).toContain("RUNNING");

      // Queries on the same socket run as whoever their own headers name; the connection itself is anonymous.
      const mine = collect(client, "{ myTenant { id } }", {}, { headers: { authorization: `Bearer ${token}` } });
      await mine.done;
      expect(mine.events[0]?.data).toMatchObject({ myTenant: { id: expect.any(String) } });
      const anonymous = collect(client, "{ myTenant { id } }");
      await anonymous.done.catch(() => {});
      expect(anonymous.events[0]?.data?.myTenant ?? null).toBeNull();
      watcher.unsubscribe();
    } finally {
      await client.dispose();
    }
  });

  it("refuses an operation whose own token is bad with UNAUTHENTICATED, and keeps the socket open for the next", async () => {
    const { token, stackId } = await ownerWithStack();
    const client = wsClient(`${graph.url}/graphql`);
    let connections = 0;
    client.on("connected", () => {
      connections += 1;
    });
    try {
      // A subscription that holds the (lazy) client's socket open throughout.
      const watcher = collect(client, WATCH, { stackId }, { headers: { authorization: `Bearer ${token}` } });
      for (const authorization of ["Bearer not-a-token", "Basic abc", 42]) {
        await expect(collect(client, WATCH, {}, { headers: { authorization } }).done).rejects.toMatchObject([{ extensions: { code: "UNAUTHENTICATED" } }]);
      }
      const after = collect(client, "{ myTenant { id } }", {}, { headers: { AUTHORIZATION: `Bearer ${token}` } });
      await after.done;
      expect(after.events[0]?.data).toMatchObject({ myTenant: { id: expect.any(String) } });
      await deployUntilSeen(watcher, stackId, token);
      await watcher.until((all) => all.some((event) => event.data?.jobUpdated.status === "SUCCEEDED"));
      expect(connections).toBe(1);
      watcher.unsubscribe();
    } finally {
      await client.dispose();
    }
  });

  it("counts an operation's subscriptions against its own caller's tenant, not the connection's", async () => {
    // WS_MAX_SUBSCRIPTIONS_PER_TENANT is 1 here.
    const a = await ownerWithStack();
    const b = await ownerWithStack();
    const client = wsClient(`${graph.url}/graphql`);
    try {
      const first = collect(client, WATCH, { stackId: a.stackId }, { headers: { authorization: `Bearer ${a.token}` } });
      await deployUntilSeen(first, a.stackId, a.token);
      const second = collect(client, WATCH, {}, { headers: { authorization: `Bearer ${a.token}` } });
      await second.done;
      expect(second.events[0]?.errors?.[0]).toMatchObject({ extensions: { code: "RATE_LIMITED" } });
      // B's on the same (anonymous) socket is B's first.
      const other = collect(client, WATCH, { stackId: b.stackId }, { headers: { authorization: `Bearer ${b.token}` } });
      await deployUntilSeen(other, b.stackId, b.token);
      await other.until((all) => all.some((event) => event.data?.jobUpdated.status === "SUCCEEDED"));
      expect(other.events.every((event) => event.errors === undefined)).toBe(true);
      first.unsubscribe();
      other.unsubscribe();
    } finally {
      await client.dispose();
    }
  });

  it("ends a subscription with UNAUTHENTICATED when its own token expires, and leaves the socket and its other operations alone", async () => {
    const { token, stackId, orgId } = await ownerWithStack();
    const shortLived = await graph.issuer.mint({ sub: `s-${uniqueSuffix()}`, orgId, roles: ["tenant:owner"], expiresIn: Math.floor(Date.now() / 1000) + 2 });
    const client = wsClient(`${graph.url}/graphql`);
    try {
      const started = Date.now();
      const expiring = collect(client, WATCH, { stackId }, { headers: { authorization: `Bearer ${shortLived}` } });
      await expect(expiring.done).rejects.toMatchObject([{ extensions: { code: "UNAUTHENTICATED" }, message: expect.stringMatching(/expired/) }]);
      expect(Date.now() - started).toBeLessThan(5000);
      const still = collect(client, "{ myTenant { id } }", {}, { headers: { authorization: `Bearer ${token}` } });
      await still.done;
      expect(still.events[0]?.data).toMatchObject({ myTenant: { id: expect.any(String) } });
    } finally {
      await client.dispose();
    }
  });

  it("serves no page in production without PLAYGROUND_ENABLED: /graphql answers what Apollo answers, /graphiql is 404", async () => {
    const production = await startTestGateway(graph.issuer, graph.subgraphs, { NODE_ENV: "production" });
    try {
      const page = await fetch(`${production.url}/graphql`, { headers: { accept: BROWSER_ACCEPT } });
      const text = await page.text();
      expect(text).not.toContain("GraphiQL");
      // Nor Apollo's landing page, which would load from Apollo's CDN and Google Fonts.
      expect(text).not.toMatch(/apollographql\.com|fonts\.googleapis/);
      expect(page.headers.get("content-security-policy")).toBeNull();
      expect((await fetch(`${production.url}/graphiql`, { headers: { accept: BROWSER_ACCEPT } })).status).toBe(404);
      const api = await fetch(`${production.url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: "{ plans { tier } }" }) });
      expect(((await api.json()) as PlansAnswer).data.plans.length).toBeGreaterThan(0);
    } finally {
      await production.stop();
    }
  });
});

describe("the playground's configuration", () => {
  const env = async (extra: NodeJS.ProcessEnv = {}) => ({
    NODE_ENV: "production",
    DATABASE_URL: "postgres://postgres@127.0.0.1:5432/x",
    CONTEXT_SIGNING_KEY: (await testContextKeys()).signingKey,
    OIDC_ISSUER: "https://auth.example.test",
    OIDC_AUDIENCE: "p",
    PLATFORM_ORG_ID: "platform",
    ...extra,
  });

  it("is on in development and test, off in production unless PLAYGROUND_ENABLED=true, which needs introspection", async () => {
    expect(parseGatewayConfig(await env({ NODE_ENV: "development" })).playground).toBe(true);
    expect(parseGatewayConfig(await env({ NODE_ENV: "test" })).playground).toBe(true);
    expect(parseGatewayConfig(await env({ NODE_ENV: "development", PLAYGROUND_ENABLED: "false" })).playground).toBe(false);
    expect(parseGatewayConfig(await env()).playground).toBe(false);
    expect(parseGatewayConfig(await env({ PLAYGROUND_ENABLED: "true", INTROSPECTION_ENABLED: "true" })).playground).toBe(true);
    // Without introspection the page would have no schema: off by default, a configuration error when asked for.
    expect(parseGatewayConfig(await env({ NODE_ENV: "development", INTROSPECTION_ENABLED: "false" })).playground).toBe(false);
    for (const extra of [{ PLAYGROUND_ENABLED: "true" }, { PLAYGROUND_ENABLED: "true", INTROSPECTION_ENABLED: "false", NODE_ENV: "development" }]) {
      const config = await env(extra);
      expect(() => parseGatewayConfig(config)).toThrow(/PLAYGROUND_ENABLED.*INTROSPECTION_ENABLED/);
    }
    const malformed = await env({ PLAYGROUND_ENABLED: "yes" });
    expect(() => parseGatewayConfig(malformed)).toThrow(/PLAYGROUND_ENABLED/);
  });
});
