import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "@kombify/gateway";
import { collect, postGraphQL, scrapePrometheus, startTestGateway, startTestSupergraph, tables, uniqueSuffix, wsClient, type GraphQLResponse, type TestSupergraph, plansFileWith } from "@kombify/testkit";

/** `RateLimit: "free";r=9;t=60` → { policy: "free", r: 9, t: 60 }. */
function parseRateLimit(header: string | null) {
  const match = /^"([a-z]+)";r=(\d+);t=(\d+)$/.exec(header ?? "");
  if (!match) throw new Error(`not a RateLimit header: ${header}`);
  return { policy: match[1]!, r: Number(match[2]), t: Number(match[3]) };
}

/** The answer's status, RateLimit headers and first error, for assertions. */
function outcome(response: GraphQLResponse) {
  return {
    status: response.status,
    policy: response.headers.get("ratelimit-policy"),
    rateLimit: response.headers.get("ratelimit") === null ? null : parseRateLimit(response.headers.get("ratelimit")),
    retryAfter: response.headers.get("retry-after"),
    error: response.errors?.[0],
  };
}

/**
 * Requests per minute per tenant by plan, counted in the gateway process (no REDIS_URL): FREE's 100 from the real
 * config/plans.json over HTTP, a tenant upgraded to PRO going on past 101, anonymous callers per address, and
 * operations over the socket drawing on the same budget.
 */
describe("rate limits per tenant by plan", () => {
  let graph: TestSupergraph;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kombify-rate-limits-"));
    graph = await startTestSupergraph({ gatewayEnv: { RATE_LIMIT_ENABLED: "true", RATE_LIMIT_ANONYMOUS_PER_MINUTE: "5" } });
  });
  afterAll(async () => {
    await graph?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function newTenant(name: string) {
    const orgId = `org-${uniqueSuffix()}`;
    const owner = await graph.issuer.mint({ sub: `owner-${uniqueSuffix()}`, orgId, roles: ["tenant:owner"] });
    const member = await graph.issuer.mint({ sub: `member-${uniqueSuffix()}`, orgId, roles: ["tenant:member"] });
    const created = await graph.graphql(`mutation { createTenant(name: "${name}", slug: "rl-${uniqueSuffix()}") { id } }`, { token: owner });
    expect(created.errors).toBeUndefined();
    return { orgId, owner, member, tenantId: created.data.createTenant.id as string };
  }

  it("answers a FREE tenant's first 100 requests in a minute with RateLimit headers counting down, and its 101st with 429 RATE_LIMITED", async () => {
    const before = await graph.scrapeMetrics();
    const { owner, member, tenantId } = await newTenant("Free");
    const answers = [];
    // The tenant's two users share its one budget (the createTenant above counted for the owner as a user, before the tenant existed).
    for (let i = 0; i < 100; i++) answers.push(outcome(await graph.graphql("{ myTenant { name } }", { token: i % 2 === 0 ? owner : member })));
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.error).toBeUndefined();
      expect(answer.policy).toBe('"free";q=100;w=60');
      expect(answer.retryAfter).toBeNull();
    }
    expect(answers.map((answer) => answer.rateLimit!.r)).toEqual(Array.from({ length: 100 }, (_, i) => 99 - i));
    for (const answer of answers) expect(answer.rateLimit!.t).toBeGreaterThan(0), expect(answer.rateLimit!.t).toBeLessThanOrEqual(60);

    const refused = await graph.graphql("{ myTenant { name } }", { token: member });
    const limited = outcome(refused);
    expect(limited.status).toBe(429);
    expect(refused.data).toBeUndefined();
    expect(limited.error).toMatchObject({ message: expect.stringContaining("100 requests a minute"), extensions: { code: "RATE_LIMITED", retryAfter: expect.any(Number) } });
    const retryAfter = limited.error!.extensions!.retryAfter as number;
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.retryAfter).toBe(String(retryAfter));
    expect(limited.policy).toBe('"free";q=100;w=60');
    expect(limited.rateLimit).toEqual({ policy: "free", r: 0, t: retryAfter });
    expect(refused.headers.get("x-request-id")).toBeTruthy();

    const after = await graph.scrapeMetrics();
    expect(after.value("kombify_refusals_total", { code: "RATE_LIMITED" }) - before.value("kombify_refusals_total", { code: "RATE_LIMITED" })).toBe(1);
    expect(after.value("kombify_gateway_rate_limited_total", { policy: "free", transport: "http" })).toBe(1);
    expect(after.value("kombify_gateway_rate_limit_degraded")).toBe(0);

    // FREE → PRO (billing's mirror, as a webhook leaves it): the next request is measured against PRO's 1000, the count so far kept.
    await graph.subgraphs.billing.runtime.db.insert(tables.billingSubscriptions).values({ tenantId, status: "active", planTier: "PRO" });
    await expect.poll(async () => (await graph.graphql("{ myTenant { name } }", { token: owner })).status, { timeout: 5000, interval: 100 }).toBe(200);
    const pro = [];
    for (let i = 0; i < 20; i++) pro.push(outcome(await graph.graphql("{ myTenant { name } }", { token: member })));
    expect(pro.every((answer) => answer.status === 200 && answer.policy === '"pro";q=1000;w=60')).toBe(true);
    const remaining = pro.map((answer) => answer.rateLimit!.r);
    expect(remaining).toEqual([...remaining].sort((a, b) => b - a));
    expect(remaining.at(-1)).toBeLessThanOrEqual(1000 - 121);
  });

  it("keeps a PRO tenant going past 101 requests in a minute", async () => {
    const { owner, tenantId } = await newTenant("Pro");
    await graph.subgraphs.billing.runtime.db.insert(tables.billingSubscriptions).values({ tenantId, status: "active", planTier: "PRO" });
    await expect.poll(async () => (await graph.graphql("{ myTenant { plan { tier } } }", { token: owner })).data?.myTenant.plan.tier, { timeout: 5000, interval: 100 }).toBe("PRO");
    const answers = await Promise.all(Array.from({ length: 110 }, () => graph.graphql("{ myTenant { name } }", { token: owner }).then(outcome)));
    expect(answers.filter((answer) => answer.status !== 200)).toEqual([]);
    expect(new Set(answers.map((answer) => answer.policy))).toEqual(new Set(['"pro";q=1000;w=60']));
    expect(Math.min(...answers.map((answer) => answer.rateLimit!.r))).toBeLessThanOrEqual(1000 - 110);
  });

  it("counts anonymous callers per client address, believing X-Forwarded-For only from a trusted proxy, and leaves health, readiness and metrics alone", async () => {
    const anonymous = (headers: Record<string, string> = {}, url = `${graph.url}/graphql`) => postGraphQL(url, { query: "{ plans { tier } }" }, headers).then(outcome);
    // Without TRUSTED_PROXIES a client cannot pose as many by writing the header.
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await anonymous({ "x-forwarded-for": `203.0.113.${i}` }));
    expect(answers.slice(0, 5).map((answer) => [answer.status, answer.policy, answer.rateLimit?.r])).toEqual([4, 3, 2, 1, 0].map((r) => [200, '"anonymous";q=5;w=60', r]));
    expect(answers[5]).toMatchObject({ status: 429, error: { extensions: { code: "RATE_LIMITED" } } });

    for (const path of ["/health", "/ready"]) {
      const response = await fetch(`${graph.url}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get("ratelimit"), path).toBeNull();
    }
    expect((await graph.scrapeMetrics()).value("kombify_gateway_rate_limited_total", { policy: "anonymous", transport: "http" })).toBe(1);

    // Behind a trusted proxy (here: this machine), the nearest untrusted hop of X-Forwarded-For is the client.
    const behindProxy = await startTestGateway(graph.issuer, graph.subgraphs, { RATE_LIMIT_ENABLED: "true", RATE_LIMIT_ANONYMOUS_PER_MINUTE: "2", TRUSTED_PROXIES: "127.0.0.1,10.0.0.0/8" });
    try {
      const url = `${behindProxy.url}/graphql`;
      const first = await anonymous({ "x-forwarded-for": "198.51.100.1" }, url);
      // The client wrote a left-hand entry of its own; the trusted 10.1.2.3 added the real one.
      const second = await anonymous({ "x-forwarded-for": "192.0.2.99, 198.51.100.1, 10.1.2.3" }, url);
      const third = await anonymous({ "x-forwarded-for": "198.51.100.1" }, url);
      expect([first.rateLimit?.r, second.rateLimit?.r, third.status]).toEqual([1, 0, 429]);
      expect((await anonymous({ "x-forwarded-for": "198.51.100.2" }, url)).rateLimit?.r).toBe(1);
    } finally {
      await behindProxy.stop();
    }
  });

  describe("over the WebSocket", () => {
    let gateway: RunningGateway;

    beforeAll(async () => {
      gateway = await startTestGateway(graph.issuer, graph.subgraphs, { RATE_LIMIT_ENABLED: "true", PLANS_FILE: plansFileWith(dir, { FREE: 5 }) });
    });
    afterAll(() => gateway?.stop());

    it("counts operations refused before they run too (invalid, too costly, a bad token of their own), as HTTP does", async () => {
      const { owner } = await newTenant("Refused");
      const client = wsClient(`${gateway.url}/graphql`, { authorization: `Bearer ${owner}` });
      try {
        // Refused before they run: unknown field, beyond the plan's cost ceiling, a token of their own that is none.
        const refusals = [
          collect(client, "{ nope }"),
          collect(client, "{ stacks { jobs(last: 100) { logs(tail: 10000) } } }"),
          collect(client, "{ me { id } }", {}, { headers: { authorization: "Bearer not-a-token" } }),
        ];
        const codes = await Promise.all(refusals.map((refused) => refused.done.then(() => "none", (errors: { extensions?: { code?: string } }[]) => errors[0]?.extensions?.code)));
        expect(codes).toEqual(["GRAPHQL_VALIDATION_FAILED", "COST_LIMIT_EXCEEDED", "UNAUTHENTICATED"]);
        await collect(client, "{ me { id } }").done;
        // Four operations sent (three refused before running) and a fifth: the sixth is beyond the budget of 5.
        await collect(client, "{ me { id } }").done;
        const beyond = collect(client, "{ me { id } }");
        await beyond.done;
        expect(beyond.events[0]?.errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
      } finally {
        await client.dispose();
      }
    });

    it("counts every operation sent over the socket against the tenant's budget and refuses the one beyond it alone, keeping the socket open", async () => {
      const { owner } = await newTenant("Socket");
      const before = await scrapePrometheus(`${gateway.metricsUrl}/metrics`);
      const client = wsClient(`${gateway.url}/graphql`, { authorization: `Bearer ${owner}` });
      let closed = false;
      client.on("closed", () => (closed = true));
      try {
        const live = collect(client, "subscription { jobUpdated { id } }");
        for (let i = 0; i < 3; i++) {
          const query = collect(client, "{ myTenant { name } }");
          await query.done;
          expect(query.events[0]?.errors).toBeUndefined();
        }
        const mutation = collect(client, 'mutation { createStack(name: "ws", stackKitId: "base-homelab", nodes: [{ hostname: "n1", address: "10.0.0.1" }]) { id } }');
        await mutation.done;
        expect(mutation.events[0]?.errors).toBeUndefined();

        // Five operations spent the budget of 5: the next query and the next subscription are refused, each alone.
        const query = collect(client, "{ myTenant { name } }");
        await query.done;
        expect(query.events[0]?.data ?? null).toBeNull();
        expect(query.events[0]?.errors?.[0]).toMatchObject({ message: expect.stringContaining("5 requests a minute"), extensions: { code: "RATE_LIMITED", retryAfter: expect.any(Number) } });
        const second = collect(client, "subscription { jobUpdated { id status } }");
        await second.done;
        expect(second.events[0]?.errors?.[0]).toMatchObject({ extensions: { code: "RATE_LIMITED", retryAfter: expect.any(Number) } });

        // The socket and its first subscription are still there, and HTTP draws on the same spent budget.
        const settled = await Promise.race([live.done.then(() => "completed", () => "failed"), new Promise((resolve) => setTimeout(() => resolve("open"), 300))]);
        expect(settled).toBe("open");
        expect(closed).toBe(false);
        const overHttp = outcome(await postGraphQL(`${gateway.url}/graphql`, { query: "{ myTenant { name } }" }, { authorization: `Bearer ${owner}` }));
        expect(overHttp).toMatchObject({ status: 429, policy: '"free";q=5;w=60', error: { extensions: { code: "RATE_LIMITED" } } });
        live.unsubscribe();

        const after = await scrapePrometheus(`${gateway.metricsUrl}/metrics`);
        const refusedOverSocket = (metrics: typeof before) => metrics.value("kombify_gateway_rate_limited_total", { policy: "free", transport: "websocket" });
        expect(refusedOverSocket(after) - refusedOverSocket(before)).toBe(2);
        expect(after.value("kombify_refusals_total", { code: "RATE_LIMITED" }) - before.value("kombify_refusals_total", { code: "RATE_LIMITED" })).toBe(3);
      } finally {
        await client.dispose();
      }
    });
  });
});
