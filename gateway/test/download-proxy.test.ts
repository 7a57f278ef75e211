import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@kombify/service-core/logging";
import { proxyDownload } from "../src/http/download-proxy.js";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function serve(handler: Handler): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

/** The gateway's /downloads passes a link's query to the stackkit subgraph and its answer back, and nothing more. */
describe("the gateway's download proxy", () => {
  const TIMEOUT_MS = 400;
  let upstream: { server: Server; url: string };
  let gateway: { server: Server; url: string };
  let release: (() => void) | null = null;
  const seen: { url: string; method: string; headers: Record<string, unknown> }[] = [];

  beforeAll(async () => {
    // A real HTTP server standing in for the stackkit subgraph's /downloads, with a behaviour per kit.
    upstream = await serve((req, res) => {
      seen.push({ url: req.url ?? "", method: req.method ?? "", headers: req.headers });
      const kit = new URL(req.url ?? "/", "http://x").searchParams.get("kit");
      if (kit === "silent") return; // never answers
      if (kit === "slow-start") {
        // Sends a first part at once and the rest only when the test says so: the answer must stream.
        res.writeHead(200, { "content-type": "application/octet-stream", "set-cookie": "upstream=secret", "x-internal": "leak" });
        res.write("first part;");
        release = () => res.end("second part");
        return;
      }
      res.writeHead(kit === "missing" ? 404 : 200, { "content-type": "application/json", "x-content-sha256": "abc", "x-internal": "leak" });
      res.end(JSON.stringify({ kit }));
    });
    const log = createLogger("gateway-test", "silent");
    gateway = await serve((req, res) => {
      void proxyDownload(req, res, { stackkitUrl: `${upstream.url}/graphql`, timeoutMs: TIMEOUT_MS, headers: { "x-request-id": "req-1" }, log });
    });
  });
  afterAll(async () => {
    await close(gateway.server);
    await close(upstream.server);
  });

  it("passes the query on byte for byte to the subgraph's /downloads, with the request id and none of the client's headers", async () => {
    const query = "?kit=media-center&version=2.1.0&expires=1&signature=a-b_c%3D%3D&extra=%7E";
    const answer = await fetch(`${gateway.url}/downloads${query}`, {
      headers: { authorization: "Bearer secret", cookie: "session=secret", "x-forwarded-for": "10.0.0.1", "accept-encoding": "gzip" },
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toBe("application/json");
    expect(answer.headers.get("x-content-sha256")).toBe("abc");
    expect(answer.headers.get("x-internal")).toBeNull();
    expect(answer.headers.get("x-request-id")).toBe("req-1");
    expect(await answer.json()).toEqual({ kit: "media-center" });
    const request = seen.at(-1)!;
    expect(request.url).toBe(`/downloads${query}`);
    expect(request.headers["x-request-id"]).toBe("req-1");
    for (const header of ["authorization", "cookie", "x-forwarded-for", "accept-encoding"]) expect(request.headers[header]).toBeUndefined();
  });

  it("passes the subgraph's status through, answers HEAD, and refuses other methods without asking the subgraph", async () => {
    expect((await fetch(`${gateway.url}/downloads?kit=missing`)).status).toBe(404);
    const head = await fetch(`${gateway.url}/downloads?kit=media-center`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(seen.at(-1)!.method).toBe("HEAD");
    const before = seen.length;
    const posted = await fetch(`${gateway.url}/downloads?kit=media-center`, { method: "POST", body: "x" });
    expect(posted.status).toBe(405);
    expect(posted.headers.get("allow")).toBe("GET, HEAD");
    expect(seen.length).toBe(before);
  });

  it("streams the answer as it comes, without the subgraph's other headers", async () => {
    const answer = await fetch(`${gateway.url}/downloads?kit=slow-start`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get("set-cookie")).toBeNull();
    const reader = answer.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe("first part;");
    release!();
    let rest = "";
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += new TextDecoder().decode(chunk.value);
    expect(rest).toBe("second part");
  });

  it("gives up on a silent subgraph after the timeout with 504, rather than holding the client", async () => {
    const started = Date.now();
    const answer = await fetch(`${gateway.url}/downloads?kit=silent`);
    expect(answer.status).toBe(504);
    expect(await answer.json()).toMatchObject({ error: "UNAVAILABLE" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
  });

  it("answers 502 when the subgraph cannot be reached", async () => {
    const unreachable = await serve(() => {});
    const address = unreachable.url;
    await close(unreachable.server);
    const log = createLogger("gateway-test", "silent");
    const lonely = await serve((req, res) => {
      void proxyDownload(req, res, { stackkitUrl: `${address}/graphql`, timeoutMs: TIMEOUT_MS, headers: {}, log });
    });
    try {
      expect((await fetch(`${lonely.url}/downloads?kit=x`)).status).toBe(502);
    } finally {
      await close(lonely.server);
    }
  });
});
