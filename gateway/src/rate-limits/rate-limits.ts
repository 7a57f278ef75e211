import type { IncomingMessage, ServerResponse } from "node:http";
import { Counter, Gauge, type Registry } from "prom-client";
import type { Entitlements } from "@kombify/plan-catalog";
import type { Caller } from "@kombify/service-core/auth";
import { AppError, ErrorCode } from "@kombify/service-core/errors";
import { sendJson } from "@kombify/service-core/http";
import type { Logger } from "@kombify/service-core/logging";
import type { GatewayConfig } from "../config.js";
import { budgetAddress, ClientAddresses } from "./client-address.js";
import { inProcessCounter, primaryCounter, redisCounter, WINDOW_SECONDS, type RequestCounter } from "./request-counters.js";

/** What one request was allowed, and what the IETF RateLimit headers say about the budget it came out of. */
export interface RateLimitDecision {
  allowed: boolean;
  /** The policy's name in the headers: the plan (`free`, `pro`, `enterprise`) or `anonymous`. */
  policy: string;
  /** Requests per window (`q`). */
  limit: number;
  /** Requests left in this window after this one (`r`). */
  remaining: number;
  /** Seconds until the window ends (`t`), which is also when to retry once refused. */
  resetSeconds: number;
}

type Transport = "http" | "websocket";

/**
 * Requests per minute at the gateway, per tenant by plan: every user of a tenant draws on the tenant's budget,
 * `Entitlements.requestsPerMinute(plan)` (the plan as the tenant directory says now, so an upgrade counts from the
 * next request on, with the count so far kept). A signed-in caller whose organisation has no tenant yet gets the
 * FREE budget as a user; anonymous callers one per client address (RATE_LIMIT_ANONYMOUS_PER_MINUTE). Each
 * operation counts once before it runs, over HTTP (one request) and over the socket (each query, mutation or
 * subscribe message). Counters live in Redis when REDIS_URL is set (shared by every replica), else in this process,
 * or with several gateway workers in their cluster primary (shared by every worker).
 */
export class RateLimits {
  private readonly addresses: ClientAddresses;
  private readonly refusals: Counter<"policy" | "transport">;

  private constructor(
    private readonly entitlements: Entitlements,
    private readonly anonymousPerMinute: number,
    private readonly counter: RequestCounter,
    registry: Registry,
    trustedProxies: readonly string[],
    /** Each refusal, for the gateway's refusal counter (kombify_refusals_total). */
    private readonly onRefused: (code: string) => void,
  ) {
    this.addresses = new ClientAddresses(trustedProxies);
    this.refusals = new Counter({
      name: "kombify_gateway_rate_limited_total",
      help: "Operations refused RATE_LIMITED for the requests-per-minute budget, by policy (plan or anonymous) and transport.",
      labelNames: ["policy", "transport"],
      registers: [registry],
    });
    new Gauge({
      name: "kombify_gateway_rate_limit_degraded",
      help: "1 while Redis (or the cluster primary) does not answer and rate limits are counted in this process alone, else 0; with several workers, how many of them are.",
      registers: [registry],
      collect() {
        this.set(counter.degraded ? 1 : 0);
      },
    });
  }

  static start(options: {
    settings: GatewayConfig["rateLimits"];
    entitlements: Entitlements;
    registry: Registry;
    log: Logger;
    onRefused: (code: string) => void;
  }): RateLimits {
    const { settings, log } = options;
    const counter = settings.redis ? redisCounter(settings.redis, log) : settings.countedByPrimary ? primaryCounter(log) : inProcessCounter();
    const store = settings.redis ? "redis" : settings.countedByPrimary ? "cluster primary" : "process";
    log.info({ store, anonymousPerMinute: settings.anonymousPerMinute }, "rate limits on");
    return new RateLimits(options.entitlements, settings.anonymousPerMinute, counter, options.registry, settings.trustedProxies, options.onRefused);
  }

  /** The address an anonymous caller is counted by (see ClientAddresses). */
  clientAddress(req: IncomingMessage): string {
    return this.addresses.of(req);
  }

  /** Counts one operation of `caller` (coming from `address`) and says whether it may run. */
  async admit(caller: Caller, address: string): Promise<RateLimitDecision> {
    const { key, policy, limit } = this.budgetOf(caller, address);
    const { consumed, msBeforeReset } = await this.counter.take(key, limit);
    return {
      allowed: consumed <= limit,
      policy,
      limit,
      remaining: Math.max(limit - consumed, 0),
      resetSeconds: Math.max(Math.ceil(msBeforeReset / 1000), 0),
    };
  }

  /**
   * Over HTTP, before the operation runs: the headers every answer carries (with `others`), or null when the
   * budget is spent and this answered `429` itself, with `Retry-After` and a `RATE_LIMITED` error.
   */
  async http(caller: Caller, req: IncomingMessage, res: ServerResponse, others: Record<string, string>): Promise<Record<string, string> | null> {
    const decision = await this.admit(caller, this.clientAddress(req));
    const headers = { ...others, ...rateLimitHeaders(decision) };
    if (decision.allowed) return headers;
    const error = this.refused(decision, caller, "http");
    sendJson(res, 429, { errors: [{ message: error.message, extensions: error.extensions }] }, { ...headers, "retry-after": String(error.extensions.retryAfter) });
    return null;
  }

  /** Over the socket, before an operation runs: the RATE_LIMITED error that refuses it alone, or null. */
  async refusal(caller: Caller, address: string): Promise<AppError | null> {
    const decision = await this.admit(caller, address);
    return decision.allowed ? null : this.refused(decision, caller, "websocket");
  }

  close(): void {
    this.counter.close();
  }

  private refused(decision: RateLimitDecision, caller: Caller, transport: Transport): AppError {
    this.refusals.labels(decision.policy, transport).inc();
    this.onRefused(ErrorCode.RATE_LIMITED);
    const retryAfter = Math.max(decision.resetSeconds, 1);
    const whose =
      caller.kind !== "user"
        ? "anonymous callers from one address"
        : caller.tenant
          ? `your tenant on the ${caller.tenant.plan} plan`
          : "a signed-in user without a tenant (the FREE plan)";
    return new AppError(ErrorCode.RATE_LIMITED, `Rate limit reached: ${decision.limit} requests a minute for ${whose}. Retry in ${retryAfter} s.`, { retryAfter });
  }

  private budgetOf(caller: Caller, address: string): { key: string; policy: string; limit: number } {
    if (caller.kind !== "user") return { key: `ip:${budgetAddress(address)}`, policy: "anonymous", limit: this.anonymousPerMinute };
    const plan = caller.tenant?.plan ?? "FREE";
    const key = caller.tenant ? `tenant:${caller.tenant.id}` : `user:${caller.userId}`;
    return { key, policy: plan.toLowerCase(), limit: this.entitlements.requestsPerMinute(plan) };
  }
}

/** The IETF draft's headers (draft-ietf-httpapi-ratelimit-headers -08 and later). */
export function rateLimitHeaders(decision: RateLimitDecision): Record<string, string> {
  return {
    "ratelimit-policy": `"${decision.policy}";q=${decision.limit};w=${WINDOW_SECONDS}`,
    ratelimit: `"${decision.policy}";r=${decision.remaining};t=${decision.resetSeconds}`,
  };
}
