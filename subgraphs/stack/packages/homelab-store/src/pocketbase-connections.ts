import PocketBase, { ClientResponseError } from "pocketbase";
import { AppError, ErrorCode, errors } from "@kombify/service-core/errors";

export interface SuperuserCredentials {
  email: string;
  password: string;
}

/**
 * Superuser clients, one per PocketBase instance URL, authenticated lazily and re-authenticated by the SDK
 * before the token expires. Only the namespace resolver and provisioning should hand these out.
 */
export class PocketBaseConnections {
  private readonly clients = new Map<string, Promise<PocketBase>>();

  constructor(
    private readonly credentials: SuperuserCredentials,
    /** A PocketBase request taking longer than this fails as UNAVAILABLE instead of hanging the caller. @default 10000 */
    private readonly timeoutMs = 10_000,
  ) {}

  forInstance(url: string): Promise<PocketBase> {
    let client = this.clients.get(url);
    if (!client) {
      client = this.authenticate(url);
      this.clients.set(url, client);
      client.catch(() => this.clients.delete(url));
    }
    return client;
  }

  private async authenticate(url: string): Promise<PocketBase> {
    const pb = new PocketBase(url);
    pb.autoCancellation(false);
    pb.beforeSend = (requestUrl, options) => ({ url: requestUrl, options: { ...options, signal: options.signal ?? AbortSignal.timeout(this.timeoutMs) } });
    await callPocketBase(url, () =>
      pb.collection("_superusers").authWithPassword(this.credentials.email, this.credentials.password, {
        autoRefreshThreshold: 30 * 60,
      }),
    );
    return pb;
  }
}

/** Whether a PocketBase answers its health endpoint; for readiness probes. */
export async function pocketBaseAnswers(url: string): Promise<boolean> {
  try {
    const response = await fetch(new URL("/api/health", url), { signal: AbortSignal.timeout(2000) });
    return response.ok;
  } catch {
    return false;
  }
}

/** Seconds a caller is asked to wait before retrying while its homelab moves between instances. */
export const MOVING_RETRY_AFTER_SECONDS = 5;

/** UNAVAILABLE with a retry hint (`extensions.retryAfter`, seconds): the tenant's namespace is on its way elsewhere. */
export function homelabMoving(): AppError {
  return new AppError(ErrorCode.UNAVAILABLE, `Your homelab is being moved to another instance; retry in ${MOVING_RETRY_AFTER_SECONDS} s.`, {
    retryAfter: MOVING_RETRY_AFTER_SECONDS,
  });
}

/** Whether an error is homelabMoving's (the namespace was fenced off or moved away from the instance asked). */
export function isHomelabMoving(error: unknown): boolean {
  return error instanceof AppError && error.code === ErrorCode.UNAVAILABLE && error.extensions.retryAfter === MOVING_RETRY_AFTER_SECONDS;
}

/**
 * Runs a PocketBase call; an unreachable server becomes UNAVAILABLE naming the URL, never a raw stack. A
 * collection that is not there is a namespace fenced off or removed by a move (a writer that resolved the old
 * instance just before it): UNAVAILABLE with a retry hint, and the retry finds the namespace where it is now.
 */
export async function callPocketBase<T>(url: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof ClientResponseError && (error.status === 0 || error.status >= 500)) {
      const why = error.isAbort ? "timed out" : error.status ? `status ${error.status}` : "connection failed";
      throw errors.unavailable(`PocketBase at ${url} did not answer (${why}).`);
    }
    if (isMissingCollection(error)) throw homelabMoving();
    throw error;
  }
}

/** PocketBase's answer to a request on a collection that does not exist (as opposed to a missing record). */
export function isMissingCollection(error: unknown): boolean {
  return error instanceof ClientResponseError && error.status === 404 && /collection context/i.test(String(error.response?.message ?? ""));
}

export function isNotFound(error: unknown): boolean {
  return error instanceof ClientResponseError && error.status === 404;
}
