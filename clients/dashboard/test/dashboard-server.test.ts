import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDashboardServer, type DashboardServer } from "../src/index.js";

function get(url: string, init?: RequestInit) {
  return fetch(url, { redirect: "manual", ...init });
}

/** A raw request, for paths fetch() would normalise before sending. */
function rawGet(base: string, path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    request({ host: hostname, port, path }, (response) => {
      let body = "";
      response.on("data", (chunk) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode!, body }));
    })
      .on("error", reject)
      .end();
  });
}

describe("the dashboard's server", () => {
  let dist: string;
  let gateway: Server;
  let gatewayUrl: string;
  let dashboard: DashboardServer;
  let withToken: DashboardServer;

  beforeAll(async () => {
    dist = mkdtempSync(join(tmpdir(), "kombify-dashboard-dist-"));
    mkdirSync(join(dist, "assets"));
    writeFileSync(join(dist, "index.html"), "<!doctype html><title>app</title>");
    writeFileSync(join(dist, "assets", "app-abc123.js"), "console.log('app')");
    // A stand-in gateway that says what reached it, over HTTP and over an upgraded socket.
    gateway = createServer((incoming, response) => {
      let body = "";
      incoming.on("data", (chunk) => (body += chunk));
      incoming.on("end", () => {
        response.writeHead(200, { "content-type": "application/json", "x-request-id": "abc" });
        response.end(JSON.stringify({ method: incoming.method, url: incoming.url, host: incoming.headers.host, authorization: incoming.headers.authorization, forwardedHost: incoming.headers["x-forwarded-host"], body }));
      });
    });
    gateway.on("upgrade", (incoming, socket: Socket) => {
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: ${incoming.headers["sec-websocket-protocol"]}\r\n\r\n`);
      socket.on("data", (chunk) => socket.write(`echo:${chunk}`));
      socket.on("end", () => socket.end());
    });
    await new Promise<void>((resolve) => gateway.listen(0, "127.0.0.1", resolve));
    gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
    dashboard = await startDashboardServer({ distDir: dist, gatewayUrl });
    withToken = await startDashboardServer({ distDir: dist, gatewayUrl, demoToken: () => "demo-token-value" });
  });

  afterAll(async () => {
    await dashboard?.stop();
    await withToken?.stop();
    gateway?.closeAllConnections();
    await new Promise((resolve) => gateway?.close(resolve));
    rmSync(dist, { recursive: true, force: true });
  });

  it("serves the app with a policy that keeps it to its own origin, hashed assets for a year, and the app for its own paths", async () => {
    const index = await get(`${dashboard.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get("content-type")).toContain("text/html");
    expect(index.headers.get("cache-control")).toBe("no-cache");
    expect(index.headers.get("content-security-policy")).toContain("connect-src 'self'");
    expect(index.headers.get("content-security-policy")).toContain("script-src 'self'");
    const asset = await get(`${dashboard.url}/assets/app-abc123.js`);
    expect(asset.headers.get("content-type")).toContain("text/javascript");
    expect(asset.headers.get("cache-control")).toContain("immutable");
    expect(await (await get(`${dashboard.url}/stacks/some-id`)).text()).toContain("<title>app</title>");
    expect((await get(`${dashboard.url}/missing.js`)).status).toBe(404);
    expect((await get(`${dashboard.url}/`, { method: "POST" })).status).toBe(405);
  });

  it("serves nothing outside its folder", async () => {
    // A path without an extension that names no file is a page of the app (index.html); anything else is refused.
    for (const path of ["/../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/assets/..%2f..%2f..%2fetc%2fpasswd", "/..%2f..%2fetc%2fhostname", "/%00", "/assets/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd"]) {
      const { status, body } = await rawGet(dashboard.url, path);
      expect(body).not.toMatch(/root:|localhost/);
      if (status === 200) expect(body).toContain("<title>app</title>");
      else expect([400, 404]).toContain(status);
    }
  });

  it("offers a demo token in config.json only when given one, and otherwise only says where GraphQL is", async () => {
    expect(await (await get(`${dashboard.url}/config.json`)).json()).toEqual({ graphqlUrl: "/graphql" });
    const offered = await get(`${withToken.url}/config.json`);
    expect(offered.headers.get("cache-control")).toBe("no-store");
    expect(await offered.json()).toEqual({ graphqlUrl: "/graphql", demoToken: "demo-token-value" });
    // A page served under another name that resolves here (DNS rebinding) gets no token.
    const rebound = await new Promise<string>((resolve, reject) => {
      const url = new URL(`${withToken.url}/config.json`);
      request({ host: url.hostname, port: url.port, path: url.pathname, headers: { host: "evil.example:4010" } }, (answer) => {
        let body = "";
        answer.on("data", (chunk) => (body += chunk));
        answer.on("end", () => resolve(body));
      }).on("error", reject).end();
    });
    expect(JSON.parse(rebound)).toEqual({ graphqlUrl: "/graphql" });
  });

  it("proxies /graphql to the gateway with the caller's headers and body, and says UNAVAILABLE when the gateway is gone", async () => {
    const answer = await get(`${dashboard.url}/graphql?x=1`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer t" },
      body: '{"query":"{ plans { name } }"}',
    });
    expect(answer.headers.get("x-request-id")).toBe("abc");
    expect(await answer.json()).toEqual({
      method: "POST",
      url: "/graphql?x=1",
      host: new URL(gatewayUrl).host,
      authorization: "Bearer t",
      forwardedHost: new URL(dashboard.url).host,
      body: '{"query":"{ plans { name } }"}',
    });

    const orphan = await startDashboardServer({ distDir: dist, gatewayUrl: "http://127.0.0.1:9" });
    const refused = await get(`${orphan.url}/graphql`, { method: "POST", body: "{}" });
    expect(refused.status).toBe(502);
    expect((await refused.json()).errors[0].extensions.code).toBe("UNAVAILABLE");
    await orphan.stop();
  });

  it("passes a WebSocket upgrade on /graphql through to the gateway, both ways", async () => {
    const { hostname, port } = new URL(dashboard.url);
    const upgraded = await new Promise<Socket>((resolve, reject) => {
      request({
        host: hostname,
        port,
        path: "/graphql",
        headers: { connection: "Upgrade", upgrade: "websocket", "sec-websocket-protocol": "graphql-transport-ws", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==" },
      })
        .on("upgrade", (response, socket) => {
          expect(response.statusCode).toBe(101);
          expect(response.headers["sec-websocket-protocol"]).toBe("graphql-transport-ws");
          resolve(socket);
        })
        .on("error", reject)
        .end();
    });
    const echoed = new Promise<string>((resolve) => upgraded.once("data", (chunk) => resolve(String(chunk))));
    upgraded.write("hello");
    expect(await echoed).toBe("echo:hello");
    upgraded.destroy();
  });
});
