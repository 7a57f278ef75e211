import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Logger } from "../logging/logger.js";

export const REQUEST_ID_HEADER = "x-request-id";

interface RequestScope {
  requestId: string;
  log: Logger;
}

const storage = new AsyncLocalStorage<RequestScope>();

/** Runs `fn` with a request id and a logger bound to it, so every log line of the request carries the id. */
export function runInRequestScope<T>(scope: RequestScope, fn: () => T): T {
  return storage.run(scope, fn);
}

export function currentRequestScope(): RequestScope | undefined {
  return storage.getStore();
}

const acceptableRequestId = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's `x-request-id` when it is a sane token, else a fresh one (never echo arbitrary input into logs). */
export function requestIdOf(req: IncomingMessage): string {
  const incoming = req.headers[REQUEST_ID_HEADER];
  const value = Array.isArray(incoming) ? incoming[0] : incoming;
  return value && acceptableRequestId.test(value) ? value : randomUUID();
}
