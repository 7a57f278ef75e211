import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";

export const REQUEST_ID_HEADER = "x-request-id";

const acceptableRequestId = /^[A-Za-z0-9._:-]{1,128}$/;

/** A client's request id when it is a sane token (any transport), else null: never echo arbitrary input into logs. */
export function acceptedRequestId(value: unknown): string | null {
  return typeof value === "string" && acceptableRequestId.test(value) ? value : null;
}

/** The caller's `x-request-id` when it is a sane token, else a fresh one (never echo arbitrary input into logs). */
export function requestIdOf(req: IncomingMessage): string {
  const incoming = req.headers[REQUEST_ID_HEADER];
  const value = Array.isArray(incoming) ? incoming[0] : incoming;
  return acceptedRequestId(value) ?? randomUUID();
}
