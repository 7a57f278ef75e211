import { Redis } from "ioredis";
import { RateLimiterCluster, RateLimiterClusterMaster, RateLimiterMemory, RateLimiterRedis, type RateLimiterRes } from "rate-limiter-flexible";
import { LRUCache } from "lru-cache";
import type { Logger } from "@kombify/service-core/logging";

/** Every budget is per minute: a fixed window that starts with a key's first request. */
export const WINDOW_SECONDS = 60;
/**
 * The library's own limit is never reached: plans differ per key and change while a window runs (an upgrade
 * applies to the next request, the count so far kept), so the counters only count and the caller compares
 * the count with the plan's limit. One counter per key across all plans.
 */
const UNCAPPED = 2 ** 31 - 1;

/** A key's requests in its current window (this one included), and when the window ends. */
export interface Count {
  consumed: number;
  msBeforeReset: number;
}

export interface RequestCounter {
  /** Counts one request of `key`, whose budget is `limit` (a counter may answer from an estimate far from it). */
  take(key: string, limit: number): Promise<Count>;
  /** Whether counts come from this process's insurance counter: Redis does not answer (or is not connected yet). */
  readonly degraded: boolean;
  close(): void;
}

const count = (res: RateLimiterRes): Count => ({ consumed: res.consumedPoints, msBeforeReset: res.msBeforeNext });

/** Counts in this process: a gateway on its own, without REDIS_URL. */
export function inProcessCounter(): RequestCounter {
  const limiter = new RateLimiterMemory({ points: UNCAPPED, duration: WINDOW_SECONDS });
  return { degraded: false, take: async (key) => count(await limiter.consume(key)), close() {} };
}

/** The key prefix of the primary's counters (one limiter, so one prefix). */
const PRIMARY_KEY_PREFIX = "kombify-gateway-rate";
/** How long a worker waits for the primary's count before its own insurance counter answers. */
const PRIMARY_TIMEOUT_MS = 500;

/**
 * In the cluster's primary (GATEWAY_WORKERS > 1 without REDIS_URL): the counters every worker's primaryCounter
 * counts in, rate-limiter-flexible's in-memory limiter answering them over the cluster's IPC channel. Counts
 * outlive the workers: one that dies and is replaced does not hand its tenants a fresh budget.
 */
export function servePrimaryCounts(): void {
  new RateLimiterClusterMaster();
}

/**
 * In a cluster worker without Redis: every request is counted by the primary (see servePrimaryCounts), so N
 * workers enforce one budget, not N. The answer need not wait for the primary far from a limit (the same
 * estimate the Redis counter keeps, learned from each of the primary's answers); near it, or with another count
 * of the key in flight, it waits, so refusals stay exact but for at most one request per worker. Should the
 * primary not answer in time, this worker's own counter answers (logged once) until it does again.
 */
export function primaryCounter(log: Logger): RequestCounter {
  if (!process.send) throw new Error("Rate limits counted by a cluster primary need a cluster worker (gateway/src/main.ts forks them).");
  const limiter = new RateLimiterCluster({ keyPrefix: PRIMARY_KEY_PREFIX, points: UNCAPPED, duration: WINDOW_SECONDS, timeoutMs: PRIMARY_TIMEOUT_MS });
  const insurance = new RateLimiterMemory({ points: UNCAPPED, duration: WINDOW_SECONDS });
  const estimates = new CountEstimates();
  let degraded = false;
  return {
    get degraded() {
      return degraded;
    },
    async take(key, limit) {
      estimates.sent(key);
      const counted = limiter
        .consume(key)
        .finally(() => estimates.answered(key))
        .then(
          (res) => {
            if (degraded) log.info("the cluster primary answers again: rate limits are shared by every worker again");
            degraded = false;
            estimates.learn(key, res);
            return count(res);
          },
          async (error: unknown) => {
            if (!degraded) log.warn({ err: error }, "the cluster primary did not count in time: rate limits are counted in this worker until it does");
            degraded = true;
            return count(await insurance.consume(key));
          },
        );
      const estimated = degraded ? null : estimates.takeIfFarFrom(key, limit);
      if (!estimated) return counted;
      counted.catch(() => {});
      return estimated;
    },
    close() {},
  };
}

/** The in-process counter that answers while Redis does not; it marks what it answered, so outages can be told. */
class InsuranceCounter extends RateLimiterMemory {
  readonly answered = new WeakSet<RateLimiterRes>();

  override async consume(key: string | number, points?: number, options?: Record<string, unknown>): Promise<RateLimiterRes> {
    const res = await super.consume(key, points, options);
    this.answered.add(res);
    return res;
  }
}

/**
 * Counts in Redis, shared by every gateway replica (rate-limiter-flexible's atomic Lua increment), under
 * `keyPrefix`. While Redis is down or slow, an in-process insurance counter answers (each replica then counts
 * only what it sees), so no request ever waits for or fails on Redis. ioredis is told not to queue commands
 * while disconnected and to give up on one quickly; it keeps reconnecting, backing off to one attempt every 10 s.
 * An outage is logged when it starts and when it ends, never per request.
 */
export function redisCounter(settings: { url: string; keyPrefix: string }, log: Logger): RequestCounter {
  const redis = new Redis(settings.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 500,
    retryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 10_000),
    // A reply error (READONLY on a demoted primary, say) need not drop the connection.
    reconnectOnError: () => false,
  });
  const insurance = new InsuranceCounter({ points: UNCAPPED, duration: WINDOW_SECONDS });
  const limiter = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: settings.keyPrefix,
    points: UNCAPPED,
    duration: WINDOW_SECONDS,
    // Not connected: straight to the insurance counter, instead of a command that can only fail.
    rejectIfRedisNotReady: true,
    insuranceLimiter: insurance,
  });
  const where = redactedUrl(settings.url);
  const estimates = new CountEstimates();
  let state: "starting" | "up" | "down" = "starting";
  let closing = false;
  const down = (reason: string, error?: unknown) => {
    if (state === "down" || closing) return;
    state = "down";
    log.warn({ redis: where, reason, err: error }, "Redis is unavailable: rate limits are counted in this process (per replica) until it answers again");
  };
  const up = () => {
    if (state === "down") log.info({ redis: where }, "Redis answers again: rate limits are shared by every replica again");
    state = "up";
  };
  redis.on("ready", up);
  // ioredis reports every failed reconnect as an "error"; only the first of an outage is worth a line.
  redis.on("error", (error: Error) => down("connection failed", error));
  redis.on("close", () => state === "up" && down("connection closed"));

  return {
    get degraded() {
      return state !== "up";
    },
    async take(key, limit) {
      estimates.sent(key);
      const counted = limiter.consume(key).finally(() => estimates.answered(key)).then((res) => {
        // While the first connection is still being made, the insurance answers without a word; a failed one says so.
        if (insurance.answered.has(res)) {
          if (state === "up") down("a command failed or timed out");
        } else {
          if (state !== "up" && redis.status === "ready") up();
          estimates.learn(key, res);
        }
        return count(res);
      });
      // Far from the limit, the answer need not wait for Redis's round trip: every request is still counted there,
      // and the estimate is corrected by each answer; near the limit (and with no fresh estimate) it waits, so
      // refusals stay exact across replicas.
      const estimated = state === "up" ? estimates.takeIfFarFrom(key, limit) : null;
      if (!estimated) return counted;
      counted.catch(() => {});
      return estimated;
    },
    close() {
      closing = true;
      redis.disconnect();
    },
  };
}

/** Share of a budget below which a replica answers from its own estimate while Redis counts in the background. */
const ESTIMATE_HEADROOM = 0.5;
/** How long an estimate learned from Redis is trusted; older, the next request waits for Redis again. */
const ESTIMATE_FRESH_MS = 1000;

/**
 * What this replica last heard from Redis about each key (the global count then, and the window's end), plus its
 * own requests since. Bounded: a key not asked for in a while is simply learned again.
 */
class CountEstimates {
  private readonly byKey = new LRUCache<string, { consumed: number; resetAt: number; learnedAt: number }>({ max: 50_000 });
  /** Counts sent to Redis and not answered yet, per key. */
  private readonly inFlight = new Map<string, number>();

  sent(key: string): void {
    this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + 1);
  }

  answered(key: string): void {
    const left = (this.inFlight.get(key) ?? 1) - 1;
    if (left > 0) this.inFlight.set(key, left);
    else this.inFlight.delete(key);
  }

  learn(key: string, res: RateLimiterRes): void {
    const now = Date.now();
    const resetAt = now + res.msBeforeNext;
    const known = this.byKey.get(key);
    // Answers can arrive out of order: within one window the highest count is the newest.
    const sameWindow = known && Math.abs(known.resetAt - resetAt) < 1000;
    this.byKey.set(key, { consumed: sameWindow ? Math.max(known.consumed, res.consumedPoints) : res.consumedPoints, resetAt, learnedAt: now });
  }

  takeIfFarFrom(key: string, limit: number): Count | null {
    const known = this.byKey.get(key);
    const now = Date.now();
    // Only with no other count of this key still on its way to Redis (this one is): otherwise a burst would be
    // answered from an estimate that has not heard what other replicas spent meanwhile.
    if ((this.inFlight.get(key) ?? 0) > 1) return null;
    if (!known || known.resetAt <= now || now - known.learnedAt > ESTIMATE_FRESH_MS || known.consumed + 1 >= limit * ESTIMATE_HEADROOM) return null;
    known.consumed += 1;
    return { consumed: known.consumed, msBeforeReset: known.resetAt - now };
  }
}

/** The URL without its password, for logs. */
function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparsable REDIS_URL)";
  }
}
