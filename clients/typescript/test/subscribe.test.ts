import { createServer, connect, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateStackDocument,
  CreateTenantDocument,
  DeployStackDocument,
  JobUpdatedDocument,
  KombifyApiError,
  KombifyClient,
  type JobUpdatedSubscription,
  type SubscriptionEvent,
} from "@kombify/client";
import { startTestSupergraph, TestWebSocket, uniqueSuffix, type TestSupergraph } from "@kombify/testkit";

/** A TCP proxy in front of the gateway that can cut every connection through it at once, as a network failure does. */
async function startCuttableProxy(target: string) {
  const upstream = new URL(target);
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const server = connect(Number(upstream.port), upstream.hostname);
    const end = () => {
      client.destroy();
      server.destroy();
      sockets.delete(client);
      sockets.delete(server);
    };
    for (const socket of [client, server]) {
      sockets.add(socket);
      socket.on("error", end).on("close", end);
    }
    client.pipe(server).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut: () => {
      for (const socket of sockets) socket.destroy();
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Typed events of one subscription, and a way to wait for one. */
function watch(client: KombifyClient, stackId: string) {
  const events: SubscriptionEvent<JobUpdatedSubscription>[] = [];
  const failures: KombifyApiError[] = [];
  const unsubscribe = client.subscribe(JobUpdatedDocument, { stackId }, { next: (event) => events.push(event), error: (error) => failures.push(error) });
  return { events, failures, unsubscribe };
}

const until = (predicate: () => boolean, timeout = 15_000) => expect.poll(predicate, { timeout, interval: 20 }).toBe(true);

describe("KombifyClient.subscribe over graphql-ws", () => {
  let graph: TestSupergraph;
  const subscribers = async () => (await graph.metrics()).subscriptions.subscribers;

  beforeAll(async () => {
    graph = await startTestSupergraph({ subgraphEnv: { DRY_RUN_STEP_DELAY_MS: "40" } });
  });
  afterAll(() => graph?.stop());

  /** A tenant of its own with one stack, and a token function for its owner. */
  async function tenantWithStack(expiresIn: () => string | number = () => "1h") {
    const orgId = `org-${uniqueSuffix()}`;
    const sub = `u-${uniqueSuffix()}`;
    const token = () => graph.issuer.mint({ sub, orgId, roles: ["tenant:owner"], expiresIn: expiresIn() });
    const setup = new KombifyClient({ url: `${graph.url}/graphql`, token });
    await setup.request(CreateTenantDocument, { name: "Live", slug: `live-${uniqueSuffix()}` });
    const { createStack } = await setup.request(CreateStackDocument, { name: "watched", stackKitId: "media-center", nodes: [{ hostname: "n1", address: "10.0.0.1" }] });
    return { token, stackId: createStack.id, deploy: () => setup.request(DeployStackDocument, { id: createStack.id }) };
  }

  it("receives a deploy's job events, typed, with fields of other subgraphs, until the job succeeds", async () => {
    const tenant = await tenantWithStack();
    const kombify = new KombifyClient({ url: `${graph.url}/graphql`, token: tenant.token, webSocket: { impl: TestWebSocket } });
    const before = await subscribers();
    const watcher = watch(kombify, tenant.stackId);
    await expect.poll(subscribers, { timeout: 5000 }).toBe(before + 1);
    const { deployStack } = await tenant.deploy();
    await until(() => watcher.events.some((event) => event.data?.jobUpdated.status === "SUCCEEDED"));
    expect(watcher.failures).toEqual([]);
    for (const { data, errors } of watcher.events) {
      expect(errors).toEqual([]);
      expect(data?.jobUpdated).toMatchObject({ id: deployStack.id, stack: { name: "watched", stackKit: { name: "Media Center", tier: "FREE" } } });
    }
    expect(watcher.events.at(-1)?.data?.jobUpdated.progress).toBe(1);
    watcher.unsubscribe();
    await expect.poll(subscribers, { timeout: 5000 }).toBe(before);
    await kombify.close();
  });

  it("reconnects after the connection is cut, and the subscription goes on on the new one", async () => {
    const tenant = await tenantWithStack();
    const proxy = await startCuttableProxy(graph.url);
    const closes: number[] = [];
    let connections = 0;
    const kombify = new KombifyClient({
      url: `${graph.url}/graphql`,
      token: tenant.token,
      webSocket: {
        url: `${proxy.url.replace("http", "ws")}/graphql`,
        impl: TestWebSocket,
        retryWait: { minMs: 20, maxMs: 100 },
        on: { connected: () => (connections += 1), closed: (event) => void closes.push((event as { code: number }).code) },
      },
    });
    const before = await subscribers();
    const watcher = watch(kombify, tenant.stackId);
    await expect.poll(subscribers, { timeout: 5000 }).toBe(before + 1);
    proxy.cut();
    await until(() => connections === 2);
    // The gateway saw the first socket go and the subscription come back on the second.
    await expect.poll(subscribers, { timeout: 5000 }).toBe(before + 1);
    expect(closes).toEqual([1006]);
    await tenant.deploy();
    await until(() => watcher.events.some((event) => event.data?.jobUpdated.status === "SUCCEEDED"));
    expect(watcher.failures).toEqual([]);
    watcher.unsubscribe();
    await kombify.close();
    await proxy.stop();
  });

  it("reconnects with a fresh token when the gateway closes the socket because the token expired", async () => {
    // The first token lapses in two seconds (the gateway then closes with 4401); every later one lasts an hour.
    let minted = 0;
    const tenant = await tenantWithStack(() => (minted++ === 2 ? Math.floor(Date.now() / 1000) + 2 : "1h"));
    const closes: number[] = [];
    let connections = 0;
    const kombify = new KombifyClient({
      url: `${graph.url}/graphql`,
      token: tenant.token,
      webSocket: { impl: TestWebSocket, on: { connected: () => (connections += 1), closed: (event) => void closes.push((event as { code: number }).code) } },
    });
    const before = await subscribers();
    const watcher = watch(kombify, tenant.stackId);
    await until(() => connections === 1);
    await until(() => connections === 2, 10_000);
    expect(closes).toEqual([4401]);
    await expect.poll(subscribers, { timeout: 5000 }).toBe(before + 1);
    await tenant.deploy();
    await until(() => watcher.events.some((event) => event.data?.jobUpdated.status === "SUCCEEDED"));
    expect(watcher.failures).toEqual([]);
    watcher.unsubscribe();
    await kombify.close();
  });

  it("ends a subscription with UNAUTHENTICATED when the gateway never accepts the token, without retrying it", async () => {
    let attempts = 0;
    const kombify = new KombifyClient({ url: `${graph.url}/graphql`, token: () => `not-a-token-${(attempts += 1)}`, webSocket: { impl: TestWebSocket } });
    const watcher = watch(kombify, "00000000-0000-4000-8000-000000000000");
    await until(() => watcher.failures.length === 1);
    expect(watcher.failures[0]).toBeInstanceOf(KombifyApiError);
    expect(watcher.failures[0]!.code).toBe("UNAUTHENTICATED");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(attempts).toBe(1);
    await kombify.close();
  });
});
