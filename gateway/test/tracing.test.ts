import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestSupergraph, uniqueSuffix, type TestSupergraph } from "@kombify/testkit";

/** A span as it arrives in OTLP/HTTP JSON (what @opentelemetry/exporter-trace-otlp-http sends), with its service. */
interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  status?: { code?: number; message?: string };
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
}

/** A local OTLP/HTTP receiver: POST /v1/traces, JSON (the exporter's encoding), every span kept. */
async function otlpReceiver(): Promise<{ url: string; spans: ReceivedSpan[]; contentTypes: Set<string>; close(): Promise<void> }> {
  const spans: ReceivedSpan[] = [];
  const contentTypes = new Set<string>();
  const valueOf = (value: OtlpValue) => value.stringValue ?? value.intValue ?? value.boolValue;
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== "POST" || req.url !== "/v1/traces") {
      res.writeHead(404).end();
      return;
    }
    contentTypes.add(String(req.headers["content-type"]));
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    for (const resourceSpans of body.resourceSpans ?? []) {
      const resource = Object.fromEntries((resourceSpans.resource?.attributes ?? []).map((a: { key: string; value: OtlpValue }) => [a.key, valueOf(a.value)]));
      for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
        for (const span of scopeSpans.spans ?? []) {
          spans.push({
            service: String(resource["service.name"]),
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId || undefined,
            name: span.name,
            kind: span.kind,
            attributes: Object.fromEntries((span.attributes ?? []).map((a: { key: string; value: OtlpValue }) => [a.key, valueOf(a.value)])),
            status: span.status,
          });
        }
      }
    }
    res.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    contentTypes,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** With OTEL_EXPORTER_OTLP_ENDPOINT set, one request is one trace: the gateway's operation, its fetches, the subgraphs' operations. */
describe("traces over OTLP", () => {
  let receiver: Awaited<ReturnType<typeof otlpReceiver>>;
  let graph: TestSupergraph | undefined;

  beforeAll(async () => {
    receiver = await otlpReceiver();
    const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url };
    graph = await startTestSupergraph({ gatewayEnv: otel, subgraphEnv: otel });
  });
  afterAll(async () => {
    await graph?.stop();
    await receiver?.close();
  });

  it("exports an operation span at the gateway, a child span per subgraph fetch, and the subgraphs' operation spans in the same trace", async () => {
    const owner = await graph!.issuer.mint({ sub: `traced-${uniqueSuffix()}`, orgId: `org-${uniqueSuffix()}`, roles: ["tenant:owner"] });
    const created = await graph!.graphql(`mutation { createTenant(name: "Traced", slug: "traced-${uniqueSuffix()}") { id } }`, { token: owner });
    expect(created.errors).toBeUndefined();
    const stack = await graph!.graphql('mutation { createStack(name: "traced", stackKitId: "base-homelab", nodes: [{ hostname: "n1", address: "10.0.0.1" }]) { id } }', { token: owner });
    expect(stack.errors).toBeUndefined();
    // myTenant from the tenant subgraph, its stacks from the stack subgraph, each stack's kit from the stackkit subgraph.
    const traced = await graph!.graphql("query TracedHomelab { myTenant { name stacks { name stackKit { name tier } } } }", { token: owner });
    expect(traced.errors).toBeUndefined();
    expect(traced.data.myTenant.stacks[0].stackKit.name).toBeTruthy();

    // Stopping flushes every service's batch of spans to the receiver.
    await graph!.stop();
    graph = undefined;

    expect([...receiver.contentTypes]).toEqual(["application/json"]);
    const operation = receiver.spans.find((span) => span.service === "gateway" && span.name === "query TracedHomelab");
    expect(operation, `gateway spans: ${receiver.spans.filter((s) => s.service === "gateway").map((s) => s.name).join(", ")}`).toBeDefined();
    expect(operation).toMatchObject({ kind: 2 /* SERVER */, attributes: { "graphql.operation.type": "query", "graphql.operation.name": "TracedHomelab" } });
    expect(operation!.parentSpanId).toBeUndefined();

    const trace = receiver.spans.filter((span) => span.traceId === operation!.traceId);
    const fetches = trace.filter((span) => span.service === "gateway" && span.parentSpanId === operation!.spanId);
    expect(fetches.map((span) => span.name).sort()).toEqual(["fetch stack", "fetch stackkit", "fetch tenant"]);
    for (const fetch of fetches) expect(fetch.kind).toBe(3 /* CLIENT */);

    // Each fetch's traceparent made the subgraph's operation span its child.
    for (const subgraph of ["tenant", "stack", "stackkit"]) {
      const fetch = fetches.find((span) => span.name === `fetch ${subgraph}`)!;
      const answered = trace.filter((span) => span.service === `subgraph-${subgraph}` && span.parentSpanId === fetch.spanId);
      expect(answered, subgraph).toHaveLength(1);
      expect(answered[0]!.name).toMatch(/^query TracedHomelab__/);
      expect(answered[0]!.kind).toBe(2);
    }
    // Nothing of this trace came from elsewhere: every span in it hangs off the gateway's operation.
    const ids = new Set(trace.map((span) => span.spanId));
    for (const span of trace) if (span !== operation) expect(ids.has(span.parentSpanId!), span.name).toBe(true);
  });
});
