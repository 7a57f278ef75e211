import { createReadStream, statSync } from "node:fs";
import { createServer, request as httpRequest, Agent, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { extname, join, normalize, sep } from "node:path";
import type { Duplex } from "node:stream";

export interface DashboardServerOptions {
  /** The built app (`index.html` and `assets/`). */
  distDir: string;
  /** The gateway's base URL, e.g. http://127.0.0.1:4000: `/graphql` (HTTP and WebSocket) is proxied to it. */
  gatewayUrl: string;
  /** Loopback unless told otherwise. */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /**
   * Development only: the token the sign-in form offers. It is written into `/config.json` for callers on this
   * machine (loopback) and never for anyone else; leave it out in production.
   */
  demoToken?: () => string | null | undefined;
}

export interface DashboardServer {
  /** e.g. http://127.0.0.1:4010 (no trailing slash). */
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** What the app reads at start (`config.json` next to index.html). */
export interface DashboardRuntimeConfig {
  /** Where GraphQL is, relative to the page or absolute; the WebSocket URL is derived from it. */
  graphqlUrl: string;
  demoToken?: string;
}

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

/** The page loads only its own files and talks only to its own origin (GraphQL is proxied, WebSocket included). */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const SECURITY_HEADERS = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

/** Headers that describe one hop, not the message: never forwarded by a proxy (RFC 9110, 7.6.1). */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization", "proxy-authenticate"]);

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)));
}

function isLoopback(address: string | undefined): boolean {
  return !!address && (address === "::1" || address.startsWith("127.") || address.startsWith("::ffff:127."));
}

/** Whether the Host header names this machine: a page on another name (DNS rebinding) must not get the demo token. */
function namesLoopback(host: string | undefined): boolean {
  const name = (host ?? "").replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1").toLowerCase();
  return name === "localhost" || name === "::1" || /^127(\.\d{1,3}){3}$/.test(name);
}

function isGraphQLPath(url: string | undefined): boolean {
  const path = (url ?? "").split("?")[0]!;
  return path === "/graphql" || path.startsWith("/graphql/");
}

/**
 * Serves the built dashboard and proxies `/graphql` to the gateway, so the page and the graph share one origin:
 * no CORS at the gateway, and the WebSocket for subscriptions goes through the same server.
 */
export async function startDashboardServer(options: DashboardServerOptions): Promise<DashboardServer> {
  const gateway = new URL(options.gatewayUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const sockets = new Set<Socket | Duplex>();

  const forwardedHeaders = (incoming: IncomingMessage, headers: IncomingHttpHeaders): IncomingHttpHeaders => ({
    ...headers,
    host: gateway.host,
    "x-forwarded-host": incoming.headers.host ?? "",
    "x-forwarded-proto": "http",
    "x-forwarded-for": [incoming.headers["x-forwarded-for"], incoming.socket.remoteAddress].filter(Boolean).join(", "),
  });

  function proxyHttp(incoming: IncomingMessage, response: ServerResponse): void {
    const upstream = httpRequest(
      { host: gateway.hostname, port: gateway.port, method: incoming.method, path: incoming.url, headers: forwardedHeaders(incoming, endToEnd(incoming.headers)), agent },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEnd(answer.headers));
        answer.pipe(response);
      },
    );
    upstream.on("error", () => {
      if (response.headersSent) return void response.destroy();
      const body = JSON.stringify({ errors: [{ message: "The gateway did not answer.", extensions: { code: "UNAVAILABLE" } }] });
      response.writeHead(502, { "content-type": "application/json; charset=utf-8" }).end(body);
    });
    response.on("close", () => {
      if (!response.writableFinished) upstream.destroy();
    });
    incoming.pipe(upstream);
  }

  function proxyUpgrade(incoming: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on("error", () => socket.destroy());
    // Upgrade headers are this hop's and the next's alike: pass them on as they came.
    const upstream = httpRequest({ host: gateway.hostname, port: gateway.port, method: incoming.method, path: incoming.url, headers: forwardedHeaders(incoming, incoming.headers), agent: false });
    upstream.on("upgrade", (answer, upstreamSocket, upstreamHead) => {
      sockets.add(upstreamSocket);
      upstreamSocket.once("close", () => sockets.delete(upstreamSocket));
      const lines = [`HTTP/1.1 ${answer.statusCode} ${answer.statusMessage}`];
      for (let i = 0; i < answer.rawHeaders.length; i += 2) lines.push(`${answer.rawHeaders[i]}: ${answer.rawHeaders[i + 1]}`);
      socket.write(`${lines.join("\r\n")}\r\n\r\n`);
      if (upstreamHead.length) socket.write(upstreamHead);
      if (head.length) upstreamSocket.write(head);
      upstreamSocket.on("error", () => socket.destroy());
      socket.on("error", () => upstreamSocket.destroy());
      // A WebSocket never half-closes: one side's end or close ends the other (HTTP server sockets allow half-open).
      upstreamSocket.once("end", () => socket.end());
      socket.once("end", () => upstreamSocket.end());
      upstreamSocket.once("close", () => socket.destroy());
      socket.once("close", () => upstreamSocket.destroy());
      upstreamSocket.pipe(socket, { end: false });
      socket.pipe(upstreamSocket, { end: false });
    });
    upstream.on("response", (answer) => {
      // The gateway refused the upgrade: relay its answer as it is and close.
      const lines = [`HTTP/1.1 ${answer.statusCode} ${answer.statusMessage}`, "connection: close"];
      for (let i = 0; i < answer.rawHeaders.length; i += 2) {
        if (!HOP_BY_HOP.has(answer.rawHeaders[i]!.toLowerCase())) lines.push(`${answer.rawHeaders[i]}: ${answer.rawHeaders[i + 1]}`);
      }
      socket.write(`${lines.join("\r\n")}\r\n\r\n`);
      answer.pipe(socket);
    });
    upstream.on("error", () => {
      if (socket.writable) socket.end("HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
      else socket.destroy();
    });
    upstream.end();
  }

  function serveConfig(incoming: IncomingMessage, response: ServerResponse): void {
    const config: DashboardRuntimeConfig = { graphqlUrl: "/graphql" };
    const demoToken = isLoopback(incoming.socket.remoteAddress) && namesLoopback(incoming.headers.host) ? options.demoToken?.() : undefined;
    if (demoToken) config.demoToken = demoToken;
    response.writeHead(200, { "content-type": CONTENT_TYPES[".json"], "cache-control": "no-store", ...SECURITY_HEADERS });
    response.end(incoming.method === "HEAD" ? undefined : JSON.stringify(config));
  }

  function serveFile(incoming: IncomingMessage, response: ServerResponse): void {
    let path: string;
    try {
      path = decodeURIComponent(new URL(incoming.url ?? "/", "http://dashboard").pathname);
    } catch {
      return void response.writeHead(400, SECURITY_HEADERS).end();
    }
    if (path.includes("\0")) return void response.writeHead(400, SECURITY_HEADERS).end();
    const root = normalize(options.distDir + sep);
    let file = normalize(join(root, path));
    if (!file.startsWith(root) && file !== root.slice(0, -1)) return void response.writeHead(404, SECURITY_HEADERS).end();
    let stat = statOrNull(file);
    if (stat?.isDirectory()) {
      file = join(file, "index.html");
      stat = statOrNull(file);
    }
    // A path without an extension is a page of the app: answer with the app.
    if (!stat && !extname(path)) {
      file = join(root, "index.html");
      stat = statOrNull(file);
    }
    if (!stat?.isFile()) {
      response.writeHead(404, { "content-type": CONTENT_TYPES[".txt"], ...SECURITY_HEADERS });
      return void response.end("Not found\n");
    }
    const extension = extname(file);
    // Vite names assets by their content's hash: they never change. index.html names them, so it is always revalidated.
    const hashed = file.startsWith(join(root, "assets") + sep);
    response.writeHead(200, {
      "content-type": CONTENT_TYPES[extension] ?? "application/octet-stream",
      "content-length": stat.size,
      "cache-control": hashed ? "public, max-age=31536000, immutable" : "no-cache",
      ...SECURITY_HEADERS,
    });
    if (incoming.method === "HEAD") return void response.end();
    createReadStream(file).on("error", () => response.destroy()).pipe(response);
  }

  const server = createServer((incoming, response) => {
    if (isGraphQLPath(incoming.url)) return proxyHttp(incoming, response);
    if (incoming.method !== "GET" && incoming.method !== "HEAD") {
      return void response.writeHead(405, { allow: "GET, HEAD", ...SECURITY_HEADERS }).end();
    }
    if ((incoming.url ?? "").split("?")[0] === "/config.json") return serveConfig(incoming, response);
    serveFile(incoming, response);
  });
  server.on("upgrade", (incoming, socket, head) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    if (isGraphQLPath(incoming.url)) return proxyUpgrade(incoming, socket, head);
    socket.end("HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
  });

  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      agent.destroy();
      await closed;
    },
  };
}

function statOrNull(path: string) {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}
