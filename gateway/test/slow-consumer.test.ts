import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { collect, startTestSupergraph, uniqueSuffix, wsClient, type TestSupergraph } from "@kombify/testkit";

const BUFFER_PER_SUBSCRIBER = 4;
const WATCH = "subscription($jobId: ID) { jobUpdated(jobId: $jobId) { id message logs(tail: 400) } }";
/** Big events fill the kernel's socket buffers after a few dozen, so the gateway's own bound is reached soon. */
const BIG_LOGS = Array.from({ length: 400 }, (_, line) => `${line} ${"x".repeat(1000)}`);

interface RawMessage {
  type: string;
  id?: string;
  payload?: any;
}

/** A graphql-ws client written by hand on `ws`, so the test decides when it stops and starts reading. */
async function rawSubscriber(url: string, token: string, query: string, variables: Record<string, unknown>) {
  const socket = new WebSocket(url.replace(/^http/, "ws"), "graphql-transport-ws");
  const messages: RawMessage[] = [];
  socket.on("message", (data) => messages.push(JSON.parse(String(data)) as RawMessage));
  await once(socket, "open");
  socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } }));
  await expect.poll(() => messages.some((message) => message.type === "connection_ack")).toBe(true);
  socket.send(JSON.stringify({ id: "slow-1", type: "subscribe", payload: { query, variables } }));
  return { socket, messages };
}

/**
 * One subscriber of a job stops reading while another of the same group reads on: the reader gets every event
 * in order, the stalled one is cut off at its bound (RATE_LIMITED, after what was buffered), and what the
 * gateway holds for it stops growing.
 */
describe("a subscriber that stops reading", () => {
  let graph: TestSupergraph;

  const metrics = async () => (await graph.metrics()).subscriptions;

  beforeAll(async () => {
    graph = await startTestSupergraph({
      gatewayEnv: {
        WS_BUFFER_PER_SUBSCRIBER: String(BUFFER_PER_SUBSCRIBER),
        // A stalled client cannot answer pings; keep-alive would end it before its bound is reached.
        WS_KEEPALIVE_MS: "600000",
      },
    });
  });
  afterAll(() => graph?.stop());

  it("is cut off alone at its bound, while the other subscriber of its group receives every event in order", async () => {
    const token = await graph.issuer.mint({ sub: `s-${uniqueSuffix()}`, orgId: `org-s-${uniqueSuffix()}`, roles: ["tenant:owner"] });
    await graph.graphql(`mutation { createTenant(name: "Slow", slug: "slow-${uniqueSuffix()}") { id } }`, { token });
    const stack = await graph.graphql('mutation { createStack(name: "slow", stackKitId: "base-homelab", nodes: [{ hostname: "a", address: "10.0.0.1" }]) { id } }', { token });
    const slug = (await graph.graphql("{ myTenant { slug } }", { token })).data.myTenant.slug as string;
    const pocketbase = await graph.subgraphs.stack.pocketbase.forInstance(graph.subgraphs.stack.pocketbaseUrl);
    const jobs = pocketbase.collection(`jobs_${slug.replace(/-/g, "_")}`);
    const job = await jobs.create({ stack: stack.data.createStack.id, kind: "UPDATE", status: "RUNNING", progress: 0, logs: [] });

    const reader = collect(wsClient(`${graph.url}/graphql`, { authorization: `Bearer ${token}` }), WATCH, { jobId: job.id });
    const stalled = await rawSubscriber(`${graph.url}/graphql`, token, WATCH, { jobId: job.id });
    // One group for both; both streams are live once each has seen a small update.
    await expect.poll(async () => (await metrics()).subscribers, { timeout: 10_000 }).toBe(2);
    expect((await metrics()).groups).toBe(1);
    const stalledNexts = () => stalled.messages.filter((message) => message.type === "next");
    for (let attempt = 0; !(reader.events.length > 0 && stalledNexts().length > 0); attempt++) {
      expect(attempt).toBeLessThan(100);
      await jobs.update(job.id, { message: `ping ${attempt}` });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    stalled.socket.pause();
    const sent: string[] = [];
    const isPing = (message: string) => message.startsWith("ping ");
    const readerMessages = () => reader.events.map((event) => event.data?.jobUpdated.message as string).filter((message) => !isPing(message));
    const write = async (message: string) => {
      await jobs.update(job.id, { message, logs: BIG_LOGS });
      sent.push(message);
      // One event at a time, so the reader's prompt receipt, not PocketBase's pace, is what is measured.
      await expect.poll(() => readerMessages().at(-1), { timeout: 15_000 }).toBe(message);
    };
    for (let i = 0; (await metrics()).subscribers === 2; i++) {
      expect(i, "the stalled subscriber was never cut off").toBeLessThan(400);
      await write(`event ${i}`);
    }
    // Cut off: the hub let go of it at once, and the reader is still subscribed.
    expect((await metrics()).subscribers).toBe(1);
    const heldAtCutOff = (await metrics()).bufferedBytes;
    const eventBytes = JSON.stringify({ data: { jobUpdated: { id: job.id, message: "event 000", logs: BIG_LOGS } } }).length;
    expect(heldAtCutOff).toBeLessThanOrEqual((BUFFER_PER_SUBSCRIBER + 1) * (eventBytes + 200));
    for (let i = 0; i < 10; i++) await write(`after ${i}`);
    expect((await metrics()).bufferedBytes).toBeLessThanOrEqual(heldAtCutOff);

    // The reader missed nothing and saw everything once, in order, and its stream is still open.
    expect(readerMessages()).toEqual(sent);
    for (const event of reader.events) expect(event.errors).toBeUndefined();
    await expect(Promise.race([reader.done.then(() => "ended"), new Promise((resolve) => setTimeout(() => resolve("open"), 100))])).resolves.toBe("open");

    // Reading again, the stalled client gets what was held for it, in order, then its subscription's error.
    stalled.socket.resume();
    await expect.poll(() => stalled.messages.at(-1)?.type, { timeout: 15_000 }).toBe("error");
    const error = stalled.messages.at(-1)!;
    expect(error).toMatchObject({ id: "slow-1", payload: [{ extensions: { code: "RATE_LIMITED" } }] });
    const heldForIt = stalledNexts().map((message) => message.payload.data.jobUpdated.message as string).filter((message) => !isPing(message));
    // Everything accepted before the bound was kept; the event that found it full, and all after, were not.
    const beforeCutOff = sent.filter((message) => message.startsWith("event "));
    expect(heldForIt.length).toBeGreaterThan(0);
    expect(heldForIt).toEqual(beforeCutOff.slice(0, -1));
    expect(stalled.messages.filter((message) => message.type === "complete")).toEqual([]);

    stalled.socket.close();
    reader.unsubscribe();
    await expect.poll(async () => (await metrics()).subscribers, { timeout: 5000 }).toBe(0);
  });
});
