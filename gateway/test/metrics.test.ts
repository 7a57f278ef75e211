import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ContextMetrics } from "@kombify/service-core/server";
import { collect, scrapePrometheus, startTestSupergraph, uniqueSuffix, wsClient, type PrometheusScrape, type TestSupergraph } from "@kombify/testkit";

/** Prometheus scrapes /metrics: the gateway's on its metrics listener, each subgraph's on its own port. */
describe("metrics Prometheus can scrape", () => {
  let graph: TestSupergraph;
  let owner: string;
  let stackId: string;

  beforeAll(async () => {
    graph = await startTestSupergraph({ gatewayEnv: { WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: "1" }, subgraphEnv: { DRY_RUN_STEP_DELAY_MS: "40" } });
    owner = await graph.issuer.mint({ sub: `metrics-${uniqueSuffix()}`, orgId: `org-${uniqueSuffix()}`, roles: ["tenant:owner"] });
    const created = await graph.graphql(`mutation { createTenant(name: "Metrics", slug: "metrics-${uniqueSuffix()}") { id } }`, { token: owner });
    expect(created.errors).toBeUndefined();
    const stack = await graph.graphql('mutation { createStack(name: "measured", stackKitId: "base-homelab", nodes: [{ hostname: "n1", address: "10.0.0.1" }]) { id } }', { token: owner });
    expect(stack.errors).toBeUndefined();
    stackId = stack.data.createStack.id;
  });
  afterAll(async () => {
    await graph?.stop();
  });

  const requests = (scrape: PrometheusScrape, operation: string, code: string) => scrape.value("kombify_graphql_requests_total", { operation, code });
  const latencies = (scrape: PrometheusScrape, operation: string, code: string) => scrape.count("kombify_graphql_request_duration_seconds", { operation, code });

  it("counts the gateway's operations by name and outcome code, refusals by code, and subgraph fetches by subgraph", async () => {
    const before = await graph.scrapeMetrics();

    const good = await graph.graphql("query MetricsProbe { myTenant { id slug } }", { token: owner });
    expect(good.errors).toBeUndefined();
    // The dev-platform kit needs the PRO plan; a new tenant is on FREE.
    const refused = await graph.graphql('mutation MetricsKit { requestStackKitDownload(id: "dev-platform") { url } }', { token: owner });
    expect(refused.errors?.[0]?.extensions?.code).toBe("PLAN_REQUIRED");
    const invalid = await graph.graphql("query MetricsInvalid { noSuchField }", { token: owner });
    expect(invalid.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    const anonymous = await graph.graphql("{ __typename }", { token: owner });
    expect(anonymous.data).toEqual({ __typename: "Query" });

    const after = await graph.scrapeMetrics();
    expect(requests(after, "MetricsProbe", "OK") - requests(before, "MetricsProbe", "OK")).toBe(1);
    expect(latencies(after, "MetricsProbe", "OK") - latencies(before, "MetricsProbe", "OK")).toBe(1);
    expect(requests(after, "MetricsKit", "PLAN_REQUIRED") - requests(before, "MetricsKit", "PLAN_REQUIRED")).toBe(1);
    expect(requests(after, "MetricsInvalid", "GRAPHQL_VALIDATION_FAILED") - requests(before, "MetricsInvalid", "GRAPHQL_VALIDATION_FAILED")).toBe(1);
    expect(requests(after, "anonymous", "OK") - requests(before, "anonymous", "OK")).toBeGreaterThanOrEqual(1);
    expect(after.value("kombify_refusals_total", { code: "PLAN_REQUIRED" }) - before.value("kombify_refusals_total", { code: "PLAN_REQUIRED" })).toBe(1);

    // The probe fetched from the tenant subgraph; the kit's refusal came back from the stackkit subgraph as an error.
    const fetches = "kombify_gateway_subgraph_fetch_duration_seconds";
    expect(after.count(fetches, { subgraph: "tenant" }) - before.count(fetches, { subgraph: "tenant" })).toBeGreaterThanOrEqual(1);
    expect(after.count(fetches, { subgraph: "stackkit" }) - before.count(fetches, { subgraph: "stackkit" })).toBe(1);
    const fetchErrors = "kombify_gateway_subgraph_fetch_errors_total";
    expect(after.value(fetchErrors, { subgraph: "stackkit", code: "PLAN_REQUIRED" }) - before.value(fetchErrors, { subgraph: "stackkit", code: "PLAN_REQUIRED" })).toBe(1);

    // Families with their types, the subscription gauges and the process's own series are all there.
    expect(after.families.get("kombify_graphql_requests_total")?.type).toBe("COUNTER");
    expect(after.families.get("kombify_graphql_request_duration_seconds")?.type).toBe("HISTOGRAM");
    for (const gauge of ["kombify_gateway_websocket_connections", "kombify_gateway_subscriptions", "kombify_gateway_subscription_groups", "kombify_gateway_upstream_subscriptions"]) {
      expect(after.families.get(gauge)?.type, gauge).toBe("GAUGE");
    }
    expect(after.families.get("kombify_gateway_subscription_events_delivered_total")?.type).toBe("COUNTER");
    expect(after.value("process_cpu_user_seconds_total")).toBeGreaterThan(0);
    expect(after.value("nodejs_heap_size_used_bytes")).toBeGreaterThan(0);
  });

  it("keeps operation names a client chooses from growing the series without bound", async () => {
    // A name that is no GraphQL name, sent with a document that does not parse: counted as "other".
    const before = await graph.scrapeMetrics();
    const response = await fetch(`${graph.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${owner}` },
      body: JSON.stringify({ query: "query {", operationName: "no such name!" }),
    });
    expect(response.status).toBe(400);
    const after = await graph.scrapeMetrics();
    expect(requests(after, "other", "GRAPHQL_PARSE_FAILED") - requests(before, "other", "GRAPHQL_PARSE_FAILED")).toBe(1);
    expect(after.samples("kombify_graphql_requests_total").some((sample) => sample.labels?.operation === "no such name!")).toBe(false);
  });

  it("reports connections and subscriptions, counts events delivered and the socket's refusals", async () => {
    const before = await graph.scrapeMetrics();
    const client = wsClient(`${graph.url}/graphql`, { authorization: `Bearer ${owner}` });
    try {
      const watch = "subscription MetricsWatch($stackId: ID) { jobUpdated(stackId: $stackId) { id status } }";
      const watcher = collect<{ jobUpdated: { status: string } }>(client, watch, { stackId });
      await expect.poll(async () => (await graph.scrapeMetrics()).value("kombify_gateway_subscriptions"), { timeout: 5000 }).toBe(1);
      const during = await graph.scrapeMetrics();
      expect(during.value("kombify_gateway_websocket_connections")).toBe(1);
      expect(during.value("kombify_gateway_subscription_groups")).toBe(1);
      expect(during.value("kombify_gateway_upstream_subscriptions")).toBe(1);

      // WS_MAX_SUBSCRIPTIONS_PER_CONNECTION is 1 here: a second one on the socket is refused with RATE_LIMITED.
      const second = collect(client, watch, { stackId });
      const refused = await second.until((events) => events.length > 0);
      expect(refused[0]!.errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");

      const deployed = await graph.graphql(`mutation { deployStack(id: "${stackId}") { id } }`, { token: owner });
      expect(deployed.errors).toBeUndefined();
      const events = await watcher.until((all) => all.some((event) => event.data?.jobUpdated.status === "SUCCEEDED"));
      const after = await graph.scrapeMetrics();
      const delivered = "kombify_gateway_subscription_events_delivered_total";
      expect(after.value(delivered) - before.value(delivered)).toBe(events.length);
      const received = "kombify_gateway_subscription_events_received_total";
      expect(after.value(received) - before.value(received)).toBeGreaterThanOrEqual(events.length);
      expect(after.value("kombify_refusals_total", { code: "RATE_LIMITED" }) - before.value("kombify_refusals_total", { code: "RATE_LIMITED" })).toBe(1);
      watcher.unsubscribe();
      await expect.poll(async () => (await graph.scrapeMetrics()).value("kombify_gateway_subscriptions"), { timeout: 5000 }).toBe(0);
    } finally {
      await client.dispose();
    }
  });

  it("serves each subgraph's own /metrics: operations, refusals and rejected contexts", async () => {
    const url = `${graph.subgraphs.stackkit.url}/metrics`;
    const before = await scrapePrometheus(url);
    const refused = await graph.graphql('mutation MetricsKitAgain { requestStackKitDownload(id: "dev-platform") { url } }', { token: owner });
    expect(refused.errors?.[0]?.extensions?.code).toBe("PLAN_REQUIRED");
    const direct = await fetch(`${graph.subgraphs.stackkit.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-kombify-context": "garbage.context.token" },
      body: JSON.stringify({ query: "{ __typename }" }),
    });
    expect(direct.status).toBe(200);
    const after = await scrapePrometheus(url);

    // The planner names the subgraph's operation after the client's: MetricsKitAgain__stackkit__0.
    const refusedHere = after.samples("kombify_graphql_requests_total", { code: "PLAN_REQUIRED" }).filter((sample) => sample.labels?.operation?.startsWith("MetricsKitAgain"));
    expect(refusedHere.map((sample) => Number(sample.value))).toEqual([1]);
    expect(after.value("kombify_refusals_total", { code: "PLAN_REQUIRED" }) - before.value("kombify_refusals_total", { code: "PLAN_REQUIRED" })).toBe(1);
    expect(after.value("kombify_subgraph_rejected_contexts_total") - before.value("kombify_subgraph_rejected_contexts_total")).toBe(1);
    expect(after.value("process_cpu_user_seconds_total")).toBeGreaterThan(0);

    // The JSON views stay: the subgraph's rejected contexts, the gateway's subscriptions and process.
    const json = (await (await fetch(`${graph.subgraphs.stackkit.url}/metrics.json`)).json()) as ContextMetrics & { service: string };
    expect(json).toMatchObject({ service: "stackkit", rejectedContexts: after.value("kombify_subgraph_rejected_contexts_total") });
    const gateway = await graph.metrics();
    expect(gateway.subscriptions).toMatchObject({ connections: expect.any(Number), subscribers: expect.any(Number), groups: expect.any(Number) });
    expect(gateway.process.rssBytes).toBeGreaterThan(0);
  });
});
