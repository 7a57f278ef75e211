import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from "node:http";
import { request as httpsRequest } from "node:https";
import { pipeline } from "node:stream";
import type { Logger } from "@kombify/service-core/logging";
import { ErrorCode } from "@kombify/service-core/errors";
import { sendJson } from "@kombify/service-core/http";

/** What of the stackkit subgraph's answer means something to a client downloading a kit; nothing else is passed on. */
const ANSWER_HEADERS = ["content-type", "content-length", "content-disposition", "x-content-sha256", "cache-control", "etag", "last-modified"];

export interface DownloadProxyOptions {
  /** The stackkit subgraph's GraphQL URL; its /downloads sits next to it. */
  stackkitUrl: string;
  /** How long the subgraph may stay silent (before answering, or while sending) before the download fails. */
  timeoutMs: number;
  /** Sent to the subgraph and added to the answer: the request id, and nothing of the client's own headers. */
  headers: Record<string, string>;
  log: Logger;
}

/**
 * GET/HEAD /downloads: the gateway's end of a signed download link. The stackkit subgraph listens where clients cannot
 * reach it, so its links name the gateway, which passes the query on untouched and streams the answer back. The
 * signature is checked by the subgraph alone: the gateway neither authenticates nor interprets the link.
 */
export function proxyDownload(req: IncomingMessage, res: ServerResponse, options: DownloadProxyOptions): Promise<void> {
  if (req.method !== "GET" && req.method !== "HEAD") {
    sendJson(res, 405, { error: "METHOD_NOT_ALLOWED", message: "Downloads are fetched with GET." }, { ...options.headers, allow: "GET, HEAD" });
    return Promise.resolve();
  }
  const target = new URL("downloads", options.stackkitUrl); // …/graphql → …/downloads
  // The raw query, byte for byte: re-encoding it could change what the signature was computed over.
  const rawUrl = req.url ?? "";
  const query = rawUrl.includes("?") ? rawUrl.slice(rawUrl.indexOf("?")) : "";
  return new Promise((resolve) => {
    let timedOut = false;
    const send = target.protocol === "https:" ? httpsRequest : httpRequest;
    const upstream = send(target, {
      method: req.method,
      path: `${target.pathname}${query}`,
      headers: options.headers as OutgoingHttpHeaders,
      timeout: options.timeoutMs,
    });
    upstream.on("timeout", () => {
      timedOut = true;
      upstream.destroy(new Error(`the stackkit subgraph was silent for ${options.timeoutMs} ms`));
    });
    upstream.on("response", (answer) => {
      const passed: OutgoingHttpHeaders = {};
      for (const name of ANSWER_HEADERS) if (answer.headers[name] !== undefined) passed[name] = answer.headers[name];
      res.writeHead(answer.statusCode ?? 502, { ...passed, ...options.headers });
      pipeline(answer, res, (error) => {
        if (error) {
          options.log.warn({ err: error }, "a download was cut short");
          upstream.destroy();
        }
        resolve();
      });
    });
    upstream.on("error", (error) => {
      if (res.headersSent || res.destroyed) {
        res.destroy();
        return resolve();
      }
      options.log.warn({ err: error }, "the stackkit subgraph did not answer a download");
      sendJson(
        res,
        timedOut ? 504 : 502,
        { error: ErrorCode.UNAVAILABLE, message: "Downloads are unavailable right now; try the link again shortly." },
        options.headers,
      );
      resolve();
    });
    // A client that leaves takes the upstream request with it.
    res.on("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    upstream.end();
  });
}
