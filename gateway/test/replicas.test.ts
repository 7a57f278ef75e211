import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { RunningGateway } from "@kombify/gateway";
import { collect, postGraphQL, startTestGateway, startTestSubgraph, startTestSupergraph, SUBGRAPH_DEFINITIONS, uniqueSuffix, wsClient, type TestSubgraph, type TestSupergraph } from "@kombify/testkit";

/** Two gateways and two stack subgraphs (both running jobs) over one PostgreSQL and one PocketBase. */
describe("replicas", () => {
  let graph: TestSupergraph;
  let secondStack: TestSubgraph;
  let secondGateway: RunningGateway;
  let token: string;

  beforeAll(async () => {
    graph = await startTestSupergraph({ subgraphEnv: { DRY_RUN_STEP_DELAY_MS: "30" } });
    secondStack = await startTestSubgraph(SUBGRAPH_DEFINITIONS.stack, { env: { DRY_RUN_STEP_DELAY_MS: "30" } });
    secondGateway = await startTestGateway(graph.issuer, { ...graph.subgraphs, stack: secondStack }, { WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: "2", WS_MAX_CONNECTIONS_PER_TENANT: "3" });
  });
  afterAll(async () => {
    await secondGateway?.stop();
    await secondStack?.stop();
    await graph?.stop();
  });

  it("delivers every update of a job exactly once and in order to subscribers on either gateway", async () => {
    token = await graph.issuer.mint({ sub: `r-${uniqueSuffix()}`, orgId: `org-r-${uniqueSuffix()}`, roles: ["tenant:owner"] });
    await graph.graphql(`mutation { createTenant(name: "Replicated", slug: "rep-${uniqueSuffix()}") { id } }`, { token });
    const stack = await graph.graphql('mutation { createStack(name: "rep", stackKitId: "base-homelab", nodes: [{ hostname: "a", address: "10.0.0.1" }, { hostname: "b", address: "10.0.0.2" }]) { id } }', { token });
    const stackId = stack.data.createStack.id;

    const query = "subscription($stackId: ID) { jobUpdated(stackId: $stackId) { id status progress message } }";
    const onFirst = collect(wsClient(`${graph.url}/graphql`, { authorization: `Bearer ${token}` }), query, { stackId });
    const onSecond = collect(wsClient(`${secondGateway.url}/graphql`, { authorization: `Bearer ${token}` }), query, { stackId });
    // Both streams are live once both have seen a sentinel job written straight to PocketBase.
    const superuser = await graph.subgraphs.stack.pocketbase.forInstance(graph.subgraphs.stack.pocketbaseUrl);
    const slug = (await graph.graphql("{ myTenant { slug } }", { token })).data.myTenant.slug;
    const sentinel = await superuser.collection(`jobs_${slug.replace(/-/g, "_")}`).create({ stack: stackId, kind: "UPDATE", status: "SUCCEEDED", progress: 1, logs: [] });
    const sawSentinel = (events: typeof onFirst.events) => events.some((event) => event.data?.jobUpdated.id === sentinel.id);
    for (let attempt = 0; !(sawSentinel(onFirst.events) && sawSentinel(onSecond.events)); attempt++) {
      expect(attempt).toBeLessThan(100);
      await superuser.collection(`jobs_${slug.replace(/-/g, "_")}`).update(sentinel.id, { message: `ping ${attempt}` });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // One deploy through each gateway; either stack subgraph's runner may execute either job.
    for (const gatewayUrl of [graph.url, secondGateway.url]) {
      // A runner writes SUCCEEDED just before it frees the stack, so a deploy right after the last event may
      // still find the first job queued (CONFLICT): ask again until the stack is free.
      let deployed = await postGraphQL<any>(`${gatewayUrl}/graphql`, { query: `mutation { deployStack(id: "${stackId}") { id } }` }, { authorization: `Bearer ${token}` });
      for (let attempt = 0; deployed.errors?.[0]?.extensions?.code === "CONFLICT" && attempt < 50; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        deployed = await postGraphQL<any>(`${gatewayUrl}/graphql`, { query: `mutation { deployStack(id: "${stackId}") { id } }` }, { authorization: `Bearer ${token}` });
      }
      expect(deployed.errors).toBeUndefined();
      const jobId = deployed.data.deployStack.id;
      const finished = (events: typeof onFirst.events) => events.some((event) => event.data?.jobUpdated.id === jobId && event.data.jobUpdated.status === "SUCCEEDED");
      await onFirst.until(finished);
      await onSecond.until(finished);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    const sequence = (events: typeof onFirst.events) =>
      events.filter((event) => event.data?.jobUpdated.id !== sentinel.id).map((event) => JSON.stringify(event.data?.jobUpdated));
    expect(sequence(onFirst.events).length).toBeGreaterThan(10);
    expect(sequence(onSecond.events)).toEqual(sequence(onFirst.events));
    expect(new Set(sequence(onFirst.events)).size).toBe(sequence(onFirst.events).length);
    for (const jobId of new Set(onFirst.events.map((event) => event.data!.jobUpdated.id).filter((id) => id !== sentinel.id))) {
      const ofJob = onFirst.events.map((event) => event.data!.jobUpdated).filter((job) => job.id === jobId);
      expect(ofJob[0].status).toBe("QUEUED");
      expect(ofJob.at(-1).status).toBe("SUCCEEDED");
      expect(ofJob.map((job) => job.progress)).toEqual(ofJob.map((job) => job.progress).sort((a, b) => a - b));
    }
  });

  it("refuses subscriptions beyond the per-connection limit with RATE_LIMITED", async () => {
    const client = wsClient(`${secondGateway.url}/graphql`, { authorization: `Bearer ${token}` });
    const open = [collect(client, "subscription { jobUpdated { id } }"), collect(client, "subscription { jobUpdated { id } }")];
    const third = collect(client, "subscription { jobUpdated { id } }");
    await third.done;
    expect(third.events[0]?.errors?.[0]).toMatchObject({ extensions: { code: "RATE_LIMITED" } });
    expect(open.every((stream) => stream.events.length === 0)).toBe(true);
    for (const stream of open) stream.unsubscribe();
    await client.dispose();
  });

  it("closes a tenant's connection beyond the per-tenant limit with 4429", async () => {
    const connect = () =>
      new Promise<{ socket: WebSocket; closed: Promise<number> }>((resolve) => {
        const socket = new WebSocket(`${secondGateway.url.replace("http", "ws")}/graphql`, "graphql-transport-ws");
        const closed = new Promise<number>((done) => socket.on("close", (code) => done(code)));
        socket.on("open", () => socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } })));
        socket.on("message", () => resolve({ socket, closed }));
        closed.then(() => resolve({ socket, closed }));
      });
    const opened = [];
    let refused: number | null = null;
    for (let i = 0; i < 5 && refused === null; i++) {
      const connection = await connect();
      if (connection.socket.readyState !== WebSocket.OPEN) refused = await connection.closed;
      else opened.push(connection.socket);
    }
    expect(refused).toBe(4429);
    expect(opened.length).toBeLessThanOrEqual(3);
    for (const socket of opened) socket.close();
  });
});
