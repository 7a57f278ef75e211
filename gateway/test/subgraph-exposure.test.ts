import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ANONYMOUS } from "@kombify/service-core/auth";
import { operationHash, TENANT_CONTEXT_HEADER } from "@kombify/service-core/tenant-context";
import { SUBGRAPHS, type SubgraphName } from "@kombify/service-core/federation";
import type { ContextMetrics } from "@kombify/service-core/server";
import { collect, postGraphQL, startTestSupergraph, uniqueSuffix, wsClient, type TestSupergraph } from "@kombify/testkit";

interface Captured {
  context: string | undefined;
  requestId: string | undefined;
  query: string;
}

/**
 * What whoever reads loopback traffic between the gateway and one subgraph sees: a pass-through HTTP proxy that
 * records each request's signed context and operation text.
 */
async function recordingProxy(): Promise<{ url: string; captured: Captured[]; forwardTo(url: string): void; close(): Promise<void> }> {
  let target = "";
  const captured: Captured[] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const header = (name: string) => (typeof req.headers[name] === "string" ? (req.headers[name] as string) : undefined);
    if (body.length > 0) captured.push({ context: header(TENANT_CONTEXT_HEADER), requestId: header("x-request-id"), query: JSON.parse(body.toString("utf8")).query });
    const forwarded = Object.fromEntries(
      ["content-type", "accept", TENANT_CONTEXT_HEADER, "x-request-id"].flatMap((name) => (header(name) ? [[name, header(name)!]] : [])),
    );
    const upstream = await fetch(`${target}${req.url}`, { method: req.method, headers: forwarded, ...(body.length > 0 ? { body } : {}) });
    const responseHeaders = Object.fromEntries(["content-type", "cache-control"].flatMap((name) => (upstream.headers.get(name) ? [[name, upstream.headers.get(name)!]] : [])));
    res.writeHead(upstream.status, responseHeaders);
    res.end(Buffer.from(await upstream.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    captured,
    forwardTo: (url) => (target = url),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8"));
}

/** Subgraphs answer their schema and entities only to the gateway; the contexts it signs are good for one operation. */
describe("what a subgraph answers to callers who bypass the gateway", () => {
  let graph: TestSupergraph;
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  let owner: string;

  const subgraphMetrics = async (name: SubgraphName): Promise<ContextMetrics> =>
    (await (await fetch(`${graph.subgraphs[name].url}/metrics.json`)).json()) as ContextMetrics;

  beforeAll(async () => {
    proxy = await recordingProxy();
    // The tenant subgraph is reached through the recording proxy, as a reader of loopback traffic would see it.
    graph = await startTestSupergraph({ gatewayEnv: { SUBGRAPH_TENANT_URL: `${proxy.url}/graphql` } });
    proxy.forwardTo(graph.subgraphs.tenant.url);
    owner = await graph.issuer.mint({ sub: `owner-${uniqueSuffix()}`, orgId: `org-${uniqueSuffix()}`, roles: ["tenant:owner"] });
    const created = await graph.graphql(`mutation { createTenant(name: "Exposure", slug: "exposure-${uniqueSuffix()}") { id } }`, { token: owner });
    expect(created.errors).toBeUndefined();
    const stack = await graph.graphql('mutation { createStack(name: "exposed", stackKitId: "base-homelab", nodes: [{ hostname: "n1", address: "10.0.0.1" }]) { id } }', { token: owner });
    expect(stack.errors).toBeUndefined();
  });
  afterAll(async () => {
    await graph?.stop();
    await proxy?.close();
  });

  it("refuses _service, __schema and _entities to a direct anonymous caller of every subgraph, with 403 FORBIDDEN", async () => {
    const probes = [
      "{ _service { sdl } }",
      "{ __schema { types { name fields { name } } } }",
      '{ __type(name: "Query") { fields { name } } }',
      "{ _entities(representations: []) { __typename } }",
    ];
    for (const { name } of SUBGRAPHS) {
      for (const query of probes) {
        const response = await postGraphQL<any>(`${graph.subgraphs[name].url}/graphql`, { query });
        expect(response.status, `${name}: ${query}`).toBe(403);
        expect(response.data, `${name}: ${query}`).toBeUndefined();
        expect(response.errors?.[0]?.extensions?.code, `${name}: ${query}`).toBe("FORBIDDEN");
      }
      const typename = await postGraphQL<any>(`${graph.subgraphs[name].url}/graphql`, { query: "{ __typename }" });
      expect(typename.data, name).toEqual({ __typename: "Query" });
    }
  });

  it("suggests no field names to a direct caller's typos", async () => {
    for (const query of ["{ _servic }", "{ _entitie }", "{ stak }"]) {
      const response = await postGraphQL<any>(`${graph.subgraphs.stack.url}/graphql`, { query });
      expect(response.errors?.[0]?.message).not.toMatch(/Did you mean/);
    }
  });

  it("still answers through the gateway, whose every fetch (anonymous callers' included) carries a context the subgraph verifies", async () => {
    const before = Object.fromEntries(await Promise.all(SUBGRAPHS.map(async ({ name }) => [name, await subgraphMetrics(name)] as const)));
    const anonymous = await graph.graphql("{ plans { tier } stackKits { id entitled } }");
    expect(anonymous.errors).toBeUndefined();
    expect(anonymous.data.plans.length).toBeGreaterThan(0);
    // Entities across four subgraphs, fetched through `_entities`; the instance without the count of its other tenants.
    const crossing = await graph.graphql("{ myTenant { name plan { tier } stacks { name stackKit { name } } instance { name region tenantCount } } me { id } }", { token: owner });
    expect(crossing.errors).toBeUndefined();
    expect(crossing.data.myTenant).toMatchObject({
      name: "Exposure",
      plan: { tier: "FREE" },
      stacks: [{ name: "exposed", stackKit: { name: "Base Homelab" } }],
      instance: { name: "test-instance", region: "local", tenantCount: null },
    });
    for (const { name } of SUBGRAPHS) {
      const after = await subgraphMetrics(name);
      expect(after.rejectedContexts, name).toBe(before[name]!.rejectedContexts);
      expect(after.refusedDirectCalls, name).toBe(before[name]!.refusedDirectCalls);
    }
  });

  it("sends anonymous callers' fetches with a context that says anonymous, bound to the request id and the operation", async () => {
    const requestId = `anon-${uniqueSuffix()}`;
    const response = await graph.graphql("{ myTenant { id } }", { headers: { "x-request-id": requestId } });
    expect(response.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const fetch = proxy.captured.find((entry) => entry.requestId === requestId);
    expect(fetch?.context).toBeTruthy();
    const claims = claimsOf(fetch!.context!);
    expect(claims).toMatchObject({ kind: "anonymous", rid: requestId, aud: "tenant", op: operationHash(fetch!.query) });
    expect(claims.sub).toBeUndefined();
  });

  it("treats a context captured for one operation and replayed with another as rejected: the caller is anonymous", async () => {
    const requestId = `owner-${uniqueSuffix()}`;
    const read = await graph.graphql("{ myTenant { id name } }", { token: owner, headers: { "x-request-id": requestId } });
    expect(read.errors).toBeUndefined();
    const fetch = proxy.captured.find((entry) => entry.requestId === requestId && entry.query.includes("myTenant"));
    expect(fetch?.context).toBeTruthy();
    const tenantUrl = `${graph.subgraphs.tenant.url}/graphql`;
    const before = await subgraphMetrics("tenant");
    // The operation it was signed for still answers: that is what a 60 s context bound to its operation allows.
    const same = await postGraphQL<any>(tenantUrl, { query: fetch!.query }, { [TENANT_CONTEXT_HEADER]: fetch!.context! });
    expect(same.data.myTenant).toMatchObject({ name: "Exposure" });
    const other = await postGraphQL<any>(tenantUrl, { query: "{ auditLog { action target actorUserId } }" }, { [TENANT_CONTEXT_HEADER]: fetch!.context! });
    expect(other.data).toBeNull();
    expect(other.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const schema = await postGraphQL<any>(tenantUrl, { query: "{ _service { sdl } }" }, { [TENANT_CONTEXT_HEADER]: fetch!.context! });
    expect(schema.status).toBe(403);
    expect(schema.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect((await subgraphMetrics("tenant")).rejectedContexts - before.rejectedContexts).toBe(2);
  });

  it("refuses __schema and _service over the stack subgraph's graphql-ws endpoint without a context, answers them with one", async () => {
    const stack = graph.subgraphs.stack;
    const client = wsClient(`${stack.url}/graphql`);
    try {
      for (const query of ["{ __schema { queryType { name } } }", "{ _service { sdl } }"]) {
        const direct = collect(client, query);
        await expect(direct.done, query).rejects.toEqual([expect.objectContaining({ extensions: { code: "FORBIDDEN" } })]);
        // A context signed for another operation is no better than none.
        const replayed = collect(client, query, {}, { kombifyContext: await stack.contextFor(ANONYMOUS, "subscription { jobUpdated { id } }") });
        await expect(replayed.done, query).rejects.toEqual([expect.objectContaining({ extensions: { code: "FORBIDDEN" } })]);
        const signed = collect(client, query, {}, { kombifyContext: await stack.contextFor(ANONYMOUS, query) });
        await signed.done;
        expect(signed.events).toHaveLength(1);
        expect(signed.events[0]!.errors, query).toBeUndefined();
      }
    } finally {
      await client.dispose();
    }
  });
});
