import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { collect, startTestSupergraph, uniqueSuffix, wsClient, type TestSupergraph } from "@kombify/testkit";

const WATCH = `subscription Watch($stackId: ID, $jobId: ID) {
  jobUpdated(stackId: $stackId, jobId: $jobId) { id status progress logs(tail: 2) stack { name stackKit { name tier } } }
}`;

describe("federated subscriptions through the gateway", () => {
  let graph: TestSupergraph;
  let tokenA: string;
  let tokenB: string;
  const orgA = `org-a-${uniqueSuffix()}`;

  const metrics = async () => (await graph.metrics()).subscriptions;

  async function tenantWithStack(token: string, name: string): Promise<string> {
    await graph.graphql(`mutation { createTenant(name: "${name}", slug: "${name}-${uniqueSuffix()}") { id } }`, { token });
    const stack = await graph.graphql(
      `mutation { createStack(name: "${name}", stackKitId: "media-center", nodes: [{ hostname: "n1", address: "10.0.0.1" }, { hostname: "n2", address: "10.0.0.2" }]) { id } }`,
      { token },
    );
    expect(stack.errors).toBeUndefined();
    return stack.data.createStack.id;
  }

  beforeAll(async () => {
    graph = await startTestSupergraph({ subgraphEnv: { DRY_RUN_STEP_DELAY_MS: "40" } });
    tokenA = await graph.issuer.mint({ sub: `a-${uniqueSuffix()}`, orgId: orgA, roles: ["tenant:owner"] });
    tokenB = await graph.issuer.mint({ sub: `b-${uniqueSuffix()}`, orgId: `org-b-${uniqueSuffix()}`, roles: ["tenant:owner"] });
  });
  afterAll(() => graph?.stop());

  it("streams a deploy from QUEUED to SUCCEEDED with rising progress, log lines and the StackKit from another subgraph in every event; other tenants see nothing", async () => {
    const stackId = await tenantWithStack(tokenA, "watched");
    await tenantWithStack(tokenB, "other");
    const clientA = wsClient(`${graph.url}/graphql`, { authorization: `Bearer ${tokenA}` });
    const clientB = wsClient(`${graph.url}/graphql`, { authorization: `Bearer ${tokenB}` });
    const watcher = collect(clientA, WATCH, { stackId });
    const snoopByStack = collect(clientB, WATCH, { stackId });
    const snoopAll = collect(clientB, WATCH, {});
    await expect.poll(async () => (await metrics()).groups, { timeout: 5000 }).toBeGreaterThanOrEqual(3);
    const fetchesBefore = (await metrics()).eventFetches;
    const deployed = await graph.graphql(`mutation { deployStack(id: "${stackId}") { id } }`, { token: tokenA });
    const jobId = deployed.data.deployStack.id;
    const snoopByJob = collect(clientB, WATCH, { jobId });

    const events = await watcher.until((all) => all.some((event) => event.data?.jobUpdated.status === "SUCCEEDED"));
    for (const event of events) {
      expect(event.errors).toBeUndefined();
      expect(event.data!.jobUpdated).toMatchObject({ id: jobId, stack: { name: "watched", stackKit: { name: "Media Center", tier: "FREE" } } });
    }
    const statuses = events.map((event) => event.data!.jobUpdated.status);
    expect(statuses[0]).toBe("QUEUED");
    expect(statuses).toContain("RUNNING");
    const progress = events.map((event) => event.data!.jobUpdated.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(events.at(-1)!.data!.jobUpdated.logs.join("\n")).toContain("recorded");
    // The catalog answers `max-age=60, private`: the kit is fetched for the first event and reused after.
    const fetchesAfter = (await metrics()).eventFetches;
    expect(fetchesAfter.misses - fetchesBefore.misses).toBe(1);
    expect(fetchesAfter.hits - fetchesBefore.hits).toBe(events.length - 1);

    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(snoopByStack.events).toEqual([]);
    expect(snoopAll.events).toEqual([]);
    expect(snoopByJob.events).toEqual([]);
    await clientA.dispose();
    await clientB.dispose();
  });

  it("shares one upstream subscription among subscribers, and holds none after 100 clients leave", async () => {
    const crowdToken = await graph.issuer.mint({ sub: `c-${uniqueSuffix()}`, orgId: `org-c-${uniqueSuffix()}`, roles: ["tenant:owner"] });
    const crowdStack = await tenantWithStack(crowdToken, "crowd");
    const before = (await metrics()).upstream;
    const clients = Array.from({ length: 100 }, () => wsClient(`${graph.url}/graphql`, { authorization: `Bearer ${crowdToken}` }));
    const streams = clients.map((client) => collect(client, WATCH, { stackId: crowdStack }));
    await expect.poll(async () => (await metrics()).subscribers, { timeout: 10_000 }).toBeGreaterThanOrEqual(100);
    expect((await metrics()).upstream - before).toBe(1);
    await graph.graphql(`mutation { deployStack(id: "${crowdStack}") { id } }`, { token: crowdToken });
    await Promise.all(streams.map((stream) => stream.until((events) => events.some((event) => event.data?.jobUpdated.status === "SUCCEEDED"))));
    for (const stream of streams) stream.unsubscribe();
    await Promise.all(clients.map((client) => client.dispose()));
    await expect.poll(async () => (await metrics()).upstream, { timeout: 5000 }).toBe(before);
    expect((await metrics()).subscribers).toBe(0);
  });

  it("closes with 4401 for a bad token at connect and when the token expires mid-connection", async () => {
    const closeCode = (authorization: string) =>
      new Promise<number>((resolve) => {
        const client = createClient({ url: `${graph.url.replace("http", "ws")}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization }, retryAttempts: 0, on: { closed: (event) => resolve((event as { code: number }).code) } });
        client.subscribe({ query: WATCH, variables: {} }, { next: () => {}, error: () => {}, complete: () => {} });
      });
    expect(await closeCode("Bearer not-a-token")).toBe(4401);
    // A member of tenant A (so the subscription itself stays open) whose token lapses in two seconds.
    const shortLived = await graph.issuer.mint({ sub: `s-${uniqueSuffix()}`, orgId: orgA, expiresIn: Math.floor(Date.now() / 1000) + 2 });
    const started = Date.now();
    expect(await closeCode(`Bearer ${shortLived}`)).toBe(4401);
    expect(Date.now() - started).toBeGreaterThan(900);
  });

  it("answers a malformed or invalid subscription with a coded error, and the connection's other subscriptions go on", async () => {
    const token = await graph.issuer.mint({ sub: `m-${uniqueSuffix()}`, orgId: `org-m-${uniqueSuffix()}`, roles: ["tenant:owner"] });
    const stackId = await tenantWithStack(token, "malformed");
    const client = wsClient(`${graph.url}/graphql`, { authorization: `Bearer ${token}` });
    const watcher = collect(client, WATCH, { stackId });
    const refusal = async (query: string) => (await collect(client, query).done.then(() => null, (errors: unknown) => errors)) as { message: string; extensions?: { code?: string } }[];
    expect((await refusal("subscription { jobUpdated( "))[0]).toMatchObject({ message: expect.stringContaining("Syntax Error"), extensions: { code: "GRAPHQL_PARSE_FAILED" } });
    expect((await refusal("subscription { jobUpdated { nope } }"))[0]).toMatchObject({ message: expect.stringContaining("nope"), extensions: { code: "GRAPHQL_VALIDATION_FAILED" } });
    expect((await refusal("subscription { jobUpdated { nope } }"))[0]).toMatchObject({ extensions: { code: "GRAPHQL_VALIDATION_FAILED" } });
    const badlyTyped = await collect(client, "subscription($stackId: ID) { jobUpdated(stackId: $stackId) { id } }", { stackId: { a: 1 } }).done.then(() => null, (errors: unknown) => errors);
    expect((badlyTyped as { extensions?: { code?: string } }[])[0]).toMatchObject({ message: expect.stringContaining("$stackId"), extensions: { code: "BAD_USER_INPUT" } });
    // Queries run over the same socket, with the connection's caller.
    const overSocket = collect(client, "query { myTenant { name } }");
    await overSocket.done;
    expect(overSocket.events[0]).toMatchObject({ data: { myTenant: { name: "malformed" } } });
    await graph.graphql(`mutation { deployStack(id: "${stackId}") { id } }`, { token });
    await watcher.until((events) => events.some((event) => event.data?.jobUpdated.status === "SUCCEEDED"));
    await client.dispose();
  });

  it("closes a connection whose client sends a message over 1 MiB with 1009, without reading it all", async () => {
    const socket = new WebSocket(`${graph.url.replace("http", "ws")}/graphql`, "graphql-transport-ws");
    await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
    const closed = new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));
    socket.send(JSON.stringify({ type: "connection_init", payload: { padding: "x".repeat(1024 * 1024) } }));
    expect(await closed).toBe(1009);
  });

  it("keeps the stream open with errors when a subgraph behind a secondary field is down", async () => {
    const token = await graph.issuer.mint({ sub: `d-${uniqueSuffix()}`, orgId: `org-d-${uniqueSuffix()}`, roles: ["tenant:owner"] });
    const stackId = await tenantWithStack(token, "degraded");
    const client = wsClient(`${graph.url}/graphql`, { authorization: `Bearer ${token}` });
    const stream = collect(client, `subscription($stackId: ID) { jobUpdated(stackId: $stackId) { status stack { stackKit { name } } } }`, { stackId });
    await expect.poll(async () => (await metrics()).groups, { timeout: 5000 }).toBeGreaterThanOrEqual(1);
    await graph.subgraphs.stackkit.stop();
    const deployed = await graph.graphql(`mutation { deployStack(id: "${stackId}") { id } }`, { token });
    const jobId = deployed.data.deployStack.id;
    await expect.poll(async () => (await graph.graphql(`{ job(id: "${jobId}") { status } }`, { token })).data.job.status, { timeout: 10_000 }).toBe("SUCCEEDED");
    // StackKit.name is non-null, so each event's data nulls out, but every event still arrives, with the reason.
    const events = await stream.until((all) => all.length >= 5);
    for (const event of events) expect(event.errors?.[0]).toMatchObject({ extensions: { code: "UNAVAILABLE" }, message: expect.stringContaining("stackkit") });
    await expect(Promise.race([stream.done.then(() => "completed"), new Promise((resolve) => setTimeout(() => resolve("open"), 300))])).resolves.toBe("open");
    await client.dispose();
  });
});
