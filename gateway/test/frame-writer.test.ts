import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { FrameWriter } from "../src/subscriptions/transport/frame-writer.js";

/** The frames the gateway builds itself reach a stock ws client whole, in order, between ws's own messages. */
describe("FrameWriter", () => {
  let server: WebSocketServer;
  let url: string;

  beforeAll(async () => {
    server = new WebSocketServer({ port: 0, host: "127.0.0.1", perMessageDeflate: false });
    await once(server, "listening");
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function connect(): Promise<{ serverSide: WebSocket; received: string[]; client: WebSocket }> {
    const accepted = once(server, "connection") as Promise<[WebSocket]>;
    const client = new WebSocket(url);
    const received: string[] = [];
    client.on("message", (data, isBinary) => {
      expect(isBinary).toBe(false);
      received.push(String(data));
    });
    await once(client, "open");
    const [serverSide] = await accepted;
    return { serverSide, received, client };
  }

  it("writes text frames of every length class (7-bit, 16-bit, 64-bit), coalesced with ws.send in call order", async () => {
    const { serverSide, received, client } = await connect();
    const writer = new FrameWriter(serverSide);
    // Frame payload lengths at each edge of the header's length encodings.
    const lengths = [4, 125, 126, 127, 65_535, 65_536, 300_000];
    const expected: string[] = [];
    let written = 0;
    for (const [index, length] of lengths.entries()) {
      const head = Buffer.from(`${index}:`);
      const tail = Buffer.from("é");
      const body = Buffer.from("x".repeat(length - head.length - tail.length));
      writer.sendText(head, body, tail, (error) => {
        expect(error ?? null).toBeNull();
        written += 1;
      });
      expected.push(Buffer.concat([head, body, tail]).toString());
      // A message ws sends itself between ours, as graphql-ws does with `complete`.
      serverSide.send(`plain ${index}`);
      expected.push(`plain ${index}`);
    }
    await expect.poll(() => received.length, { timeout: 10_000 }).toBe(expected.length);
    expect(received).toEqual(expected);
    expect(received.filter((_, i) => i % 2 === 0).map((message) => Buffer.byteLength(message))).toEqual(lengths);
    expect(written).toBe(lengths.length);
    client.close();
  });

  it("keeps frames whole and in order while the client does not read, and after it reads again", async () => {
    const { serverSide, received, client } = await connect();
    const writer = new FrameWriter(serverSide);
    client.pause();
    const body = Buffer.from("y".repeat(100_000));
    const expected: string[] = [];
    // Turn after turn, so the writer sees the kernel leave bytes waiting and holds later frames without copies.
    for (let turn = 0; turn < 100; turn++) {
      for (let i = 0; i < 3; i++) {
        const head = Buffer.from(`${turn}.${i}:`);
        writer.sendText(head, body, Buffer.from("!"), () => {});
        expected.push(`${turn}.${i}:${body.toString()}!`);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(serverSide.bufferedAmount).toBeGreaterThan(0);
    client.resume();
    await expect.poll(() => received.length, { timeout: 20_000 }).toBe(expected.length);
    expect(received).toEqual(expected);
    client.close();
  });

  it("reports a socket that is gone through the callback, not by throwing", async () => {
    const { serverSide, client } = await connect();
    const writer = new FrameWriter(serverSide);
    serverSide.terminate();
    expect(writer.isOpen).toBe(false);
    const error = await new Promise<Error | null | undefined>((resolve) => writer.sendText(Buffer.from("a"), Buffer.from("b"), Buffer.from("c"), resolve));
    expect(error).toBeInstanceOf(Error);
    client.terminate();
  });
});
