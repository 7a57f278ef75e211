import { createServer, Server } from "node:http";
import { connect, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { ApolloServer } from "@apollo/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handleGraphQLHttp, sendJson } from "@kombify/service-core/http";
import { startTestSupergraph, type TestSupergraph } from "@kombify/testkit";

const LIMIT = 1024 * 1024;
// Node's default: a socket whose next request never parses is cut off only after this (and a 1 s margin).
const KEEP_ALIVE_TIMEOUT_MS = new Server().keepAliveTimeout;

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

type Outcome = { kind: "answered"; response: RawResponse; ms: number } | { kind: "closed"; ms: number } | { kind: "stalled"; ms: number };

/** One keep-alive HTTP/1.1 connection spoken by hand, so we see exactly what happens to the socket between requests. */
class RawConnection {
  private buffer = Buffer.alloc(0);
  private closed = false;
  private waiter: (() => void) | null = null;
  private readonly socket: Socket;

  constructor(url: string) {
    const { hostname, port } = new URL(url);
    this.socket = connect(Number(port), hostname);
    this.socket.on("data", (data) => {
      this.buffer = Buffer.concat([this.buffer, data]);
      this.waiter?.();
    });
    // A server closing while we still send may reset the socket; for us that is just "closed".
    this.socket.on("error", () => {});
    this.socket.on("close", () => {
      this.closed = true;
      this.waiter?.();
    });
  }

  /** Writes without waiting: a server that answers before reading the body must not depend on us finishing. */
  send(head: string, body?: string | Buffer): void {
    if (this.closed) return;
    this.socket.write(head);
    if (body !== undefined && !this.closed) this.socket.write(body);
  }

  /** The next response, the socket closing, or nothing at all within `withinMs`. */
  async next(withinMs = KEEP_ALIVE_TIMEOUT_MS + 2000): Promise<Outcome> {
    const started = Date.now();
    const deadline = started + withinMs;
    for (;;) {
      const response = this.takeResponse();
      if (response) return { kind: "answered", response, ms: Date.now() - started };
      if (this.closed) return { kind: "closed", ms: Date.now() - started };
      const left = deadline - Date.now();
      if (left <= 0) return { kind: "stalled", ms: Date.now() - started };
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = null;
    }
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Parses one complete response (content-length or chunked) off the front of the buffer, if there is one. */
  private takeResponse(): RawResponse | null {
    const headEnd = this.buffer.indexOf("\r\n\r\n");
    if (headEnd < 0) return null;
    const [statusLine, ...lines] = this.buffer.subarray(0, headEnd).toString("latin1").split("\r\n");
    const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(":")).toLowerCase(), line.slice(line.indexOf(":") + 1).trim()]));
    let offset = headEnd + 4;
    let body: Buffer;
    if (headers["transfer-encoding"] === "chunked") {
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = this.buffer.indexOf("\r\n", offset);
        if (lineEnd < 0) return null;
        const size = parseInt(this.buffer.subarray(offset, lineEnd).toString("latin1"), 16);
        if (this.buffer.length < lineEnd + 2 + size + 2) return null;
        parts.push(this.buffer.subarray(lineEnd + 2, lineEnd + 2 + size));
        offset = lineEnd + 2 + size + 2;
        if (size === 0) break;
      }
      body = Buffer.concat(parts);
    } else {
      const length = Number(headers["content-length"] ?? 0);
      if (this.buffer.length < offset + length) return null;
      body = this.buffer.subarray(offset, offset + length);
      offset += length;
    }
    this.buffer = this.buffer.subarray(offset);
    return { status: Number(statusLine!.split(" ")[1]), headers, body: body.toString("utf8") };
  }
}

const QUERY = '{"query":"{ __typename }"}';

function post(path: string, body: string, headers: Record<string, string> = {}): [string, string] {
  const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join("");
  return [`POST ${path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n`, body];
}

function postChunked(path: string, body: string, headers: Record<string, string> = {}): [string, string] {
  const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join("");
  const chunks = body.length > 0 ? `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n` : "";
  return [`POST ${path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n${extra}\r\n`, `${chunks}0\r\n\r\n`];
}

/**
 * After a refused request, the socket either ends at once or answers the next request: never the stall that
 * sends the next request (behind a proxy: someone else's) into the keep-alive timeout and a reset.
 */
async function expectSocketUsableOrClosed(connection: RawConnection, path: string, headers: Record<string, string> = {}): Promise<Outcome> {
  connection.send(...post(path, QUERY, headers));
  const after = await connection.next();
  expect(after.kind).not.toBe("stalled");
  expect(after.ms).toBeLessThan(KEEP_ALIVE_TIMEOUT_MS / 2);
  return after;
}

/** A plain node:http server running a real ApolloServer through handleGraphQLHttp, as both servers do. */
describe("handleGraphQLHttp on a keep-alive connection", () => {
  let server: Server;
  let apollo: ApolloServer;
  let url: string;

  beforeAll(async () => {
    apollo = new ApolloServer({ typeDefs: "type Query { ok: Boolean }", resolvers: { Query: { ok: () => true } } });
    await apollo.start();
    server = createServer((req, res) => {
      if (new URL(req.url ?? "/", "http://x").pathname !== "/graphql") return sendJson(res, 404, { error: "NOT_FOUND" });
      handleGraphQLHttp(apollo, req, res, async () => ({})).catch(() => res.end());
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await apollo.stop();
  });

  it("keeps the connection for the next request after a normal one (the baseline the other cases are measured against)", async () => {
    const connection = new RawConnection(url);
    connection.send(...post("/graphql", QUERY));
    const first = await connection.next();
    expect(first).toMatchObject({ kind: "answered", response: { status: 200 } });
    const second = await expectSocketUsableOrClosed(connection, "/graphql");
    expect(second).toMatchObject({ kind: "answered", response: { status: 200 } });
    connection.destroy();
  });

  it("refuses a declared oversized body before it is sent, and closes the connection rather than read it", async () => {
    const connection = new RawConnection(url);
    // Only the head: the 413 must come without the server waiting for (or reading) a single byte of body.
    connection.send(`POST /graphql HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: ${10 * LIMIT}\r\n\r\n`);
    const refused = await connection.next();
    expect(refused).toMatchObject({ kind: "answered", response: { status: 413, headers: { connection: "close" } } });
    expect(JSON.parse((refused as { response: RawResponse }).response.body).errors[0].extensions.code).toBe("BAD_USER_INPUT");
    const after = await connection.next();
    expect(after.kind).toBe("closed");
    expect(after.ms).toBeLessThan(KEEP_ALIVE_TIMEOUT_MS / 2);
  });

  it("refuses an oversized body sent in full with a content-length, and the socket does not stall", async () => {
    const connection = new RawConnection(url);
    connection.send(...post("/graphql", "x".repeat(2 * LIMIT)));
    expect(await connection.next()).toMatchObject({ kind: "answered", response: { status: 413, headers: { connection: "close" } } });
    expect((await expectSocketUsableOrClosed(connection, "/graphql")).kind).toBe("closed");
  });

  it("refuses an oversized chunked body (no length known in advance) part way, and the socket does not stall", async () => {
    const connection = new RawConnection(url);
    connection.send(...postChunked("/graphql", "x".repeat(2 * LIMIT)));
    expect(await connection.next()).toMatchObject({ kind: "answered", response: { status: 413, headers: { connection: "close" } } });
    expect((await expectSocketUsableOrClosed(connection, "/graphql")).kind).toBe("closed");
  });

  it("answers bad JSON with 400 after reading it all, and keeps the connection", async () => {
    const connection = new RawConnection(url);
    connection.send(...post("/graphql", "{ not json"));
    expect(await connection.next()).toMatchObject({ kind: "answered", response: { status: 400 } });
    expect(await expectSocketUsableOrClosed(connection, "/graphql")).toMatchObject({ kind: "answered", response: { status: 200 } });
    connection.destroy();
  });

  it("answers an unread body on an unknown route with 404 and the socket stays usable (small) or closes (large, or chunked)", async () => {
    const small = new RawConnection(url);
    small.send(...post("/nowhere", QUERY));
    expect(await small.next()).toMatchObject({ kind: "answered", response: { status: 404 } });
    expect(await expectSocketUsableOrClosed(small, "/graphql")).toMatchObject({ kind: "answered", response: { status: 200 } });
    small.destroy();

    const large = new RawConnection(url);
    large.send(...post("/nowhere", "x".repeat(LIMIT / 2)));
    expect(await large.next()).toMatchObject({ kind: "answered", response: { status: 404, headers: { connection: "close" } } });
    expect((await expectSocketUsableOrClosed(large, "/graphql")).kind).toBe("closed");

    const chunked = new RawConnection(url);
    chunked.send(...postChunked("/nowhere", QUERY));
    expect(await chunked.next()).toMatchObject({ kind: "answered", response: { status: 404 } });
    await expectSocketUsableOrClosed(chunked, "/graphql");
    chunked.destroy();
  });
});

/** The gateway refuses a caller before reading the body; a subgraph server refuses oversized bodies the same way. */
describe("the gateway and a subgraph server on a keep-alive connection", () => {
  let graph: TestSupergraph;

  beforeAll(async () => {
    graph = await startTestSupergraph();
  });
  afterAll(() => graph?.stop());

  it("answers a bad token with 401 and then the next request on the same socket (a small body is drained)", async () => {
    const connection = new RawConnection(graph.url);
    connection.send(...post("/graphql", '{"query":"{ plans { tier } }"}', { authorization: "Bearer not-a-token" }));
    const refused = await connection.next();
    expect(refused).toMatchObject({ kind: "answered", response: { status: 401 } });
    expect(await expectSocketUsableOrClosed(connection, "/graphql")).toMatchObject({ kind: "answered", response: { status: 200 } });
    connection.destroy();
  });

  it("answers a bad token with a large chunked body with 401, closing instead of reading the body", async () => {
    const connection = new RawConnection(graph.url);
    connection.send(...postChunked("/graphql", "x".repeat(2 * LIMIT), { authorization: "Bearer not-a-token" }));
    expect(await connection.next()).toMatchObject({ kind: "answered", response: { status: 401, headers: { connection: "close" } } });
    expect((await expectSocketUsableOrClosed(connection, "/graphql")).kind).toBe("closed");
  });

  it("refuses an oversized body at the gateway (anonymous caller) and at a subgraph, and neither socket stalls", async () => {
    for (const base of [graph.url, graph.subgraphs.stackkit.url]) {
      for (const request of [post("/graphql", "x".repeat(2 * LIMIT)), postChunked("/graphql", "x".repeat(2 * LIMIT))]) {
        const connection = new RawConnection(base);
        connection.send(...request);
        expect(await connection.next()).toMatchObject({ kind: "answered", response: { status: 413, headers: { connection: "close" } } });
        expect((await expectSocketUsableOrClosed(connection, "/graphql")).kind).toBe("closed");
      }
    }
  });
});
