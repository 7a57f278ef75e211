import type { IncomingMessage, ServerResponse } from "node:http";
import { HeaderMap, type ApolloServer, type BaseContext, type HTTPGraphQLRequest } from "@apollo/server";
import { ErrorCode } from "../errors/app-error.js";

const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Node's defaults give a client five minutes to send one request: forty connections that hold back the last
 * byte of a 1 MiB body each keep their buffers that long. A whole request (headers and body) must arrive within
 * these; an answer may take as long as it takes.
 */
export const REQUEST_TIMEOUTS = { requestTimeout: 30_000, headersTimeout: 15_000 } as const;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A body nobody read, up to this size, is left for Node to read and discard; a larger one ends the connection. */
const DRAIN_LIMIT_BYTES = 64 * 1024;

export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  // A declared length over the limit is refused before reading a byte: the connection closes instead.
  const declared = declaredLength(req);
  if (declared !== undefined && declared > limit) throw bodyTooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw bodyTooLarge(limit);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function bodyTooLarge(limit: number): HttpError {
  return new HttpError(413, ErrorCode.BAD_USER_INPUT, `Request body exceeds ${limit} bytes.`);
}

function declaredLength(req: IncomingMessage): number | undefined {
  const header = req.headers["content-length"];
  return header === undefined ? undefined : Number(header);
}

/**
 * Keeps a keep-alive connection usable when the answer goes out before the request body was read to its end
 * (refused as too large, or refused before reading: no token, unknown route). Left alone, the rest of the body
 * stays on the wire, the next request on that socket is never parsed and a proxy's pooled connection fails
 * someone else's request after the keep-alive timeout. An untouched small body Node reads and discards after
 * the response by itself; anything else (larger, of unknown length, or read half way) gets `Connection: close`,
 * so Node ends the socket after the response instead of us reading megabytes only to throw them away.
 * Call it before the response's head is written; sendJson and sendGraphQLError do.
 */
export function settleUnreadBody(res: ServerResponse): void {
  const req = res.req;
  if (!req || res.headersSent || req.complete) return;
  const declared = declaredLength(req);
  const hasBody = req.headers["transfer-encoding"] !== undefined || (declared !== undefined && declared > 0);
  if (!hasBody) return;
  if (!req.readableDidRead && declared !== undefined && declared <= DRAIN_LIMIT_BYTES) return;
  res.setHeader("connection", "close");
  // Discard what still arrives until the socket ends, so a client busy sending is not blocked from reading the answer.
  req.resume();
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  settleUnreadBody(res);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
  res.end(payload);
}

/** A GraphQL-shaped error response for failures before execution (bad JSON, body too large, bad token). */
export function sendGraphQLError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { errors: [{ message, extensions: { code } }] }, headers);
}

async function parseBody(req: IncomingMessage): Promise<unknown> {
  if (req.method !== "POST") return undefined;
  const raw = await readBody(req);
  if (raw.length === 0) return undefined;
  const contentType = String(req.headers["content-type"] ?? "");
  if (!contentType.includes("json")) return raw.toString("utf8");
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch {
    throw new HttpError(400, ErrorCode.BAD_USER_INPUT, "The request body is not valid JSON.");
  }
}

/**
 * Apollo Server 5 has no HTTP framework integration in core: this adapts node:http to
 * `executeHTTPGraphQLRequest`, including streamed (incremental) responses.
 */
export async function handleGraphQLHttp<Context extends BaseContext>(
  server: Pick<ApolloServer<Context>, "executeHTTPGraphQLRequest">,
  req: IncomingMessage,
  res: ServerResponse,
  context: () => Promise<Context>,
  extraHeaders: Record<string, string> = {},
): Promise<void> {
  let body: unknown;
  try {
    body = await parseBody(req);
  } catch (error) {
    if (error instanceof HttpError) return sendGraphQLError(res, error.status, error.code, error.message, extraHeaders);
    throw error;
  }
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(", ") : value);
  }
  const url = new URL(req.url ?? "/", "http://localhost");
  const request: HTTPGraphQLRequest = { method: req.method ?? "GET", headers, search: url.search, body };
  const response = await server.executeHTTPGraphQLRequest({ httpGraphQLRequest: request, context });
  for (const [key, value] of response.headers) res.setHeader(key, value);
  for (const [key, value] of Object.entries(extraHeaders)) res.setHeader(key, value);
  res.statusCode = response.status ?? 200;
  if (response.body.kind === "complete") {
    res.end(response.body.string);
    return;
  }
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}

