import { fetch } from "undici"; // not the global fetch, which loads a second undici (see SubgraphClient)
import { createLocalJWKSet, errors as joseErrors, type JSONWebKeySet, type JWK, type JWTVerifyGetKey } from "jose";
import type { Logger } from "@kombify/service-core/logging";

export interface JwksCacheOptions {
  /** Shortest time between two fetches caused by tokens with an unknown `kid`. @default 30000 */
  refreshCooldownMs?: number;
  /** Age after which the keys are refetched in the background; until then, and if the refetch fails, the cached keys stay in use. @default 600000 */
  maxAgeMs?: number;
  /** Longest a fetch of the keys may take. @default 5000 */
  timeoutMs?: number;
  /** Wait before the first retry after a failed fetch; it doubles with each further failure. @default 1000 */
  backoffBaseMs?: number;
  /** Longest wait between two attempts while the issuer keeps failing. @default 30000 */
  backoffMaxMs?: number;
}

/** The issuer's keys could not be had and none are cached: a dependency is down, not the caller's fault. */
export class JwksUnavailableError extends Error {}

/**
 * The issuer's signing keys, fetched once and kept, so a slow or failing issuer costs requests as little as
 * possible:
 * - keys past `maxAgeMs` are still used while a refetch runs in the background (stale-while-revalidate); only
 *   the very first fetch is awaited, by all its concurrent callers together;
 * - a failed fetch is not retried before an exponential, jittered backoff, and while no keys are cached
 *   requests fail at once during that backoff instead of each hitting the issuer;
 * - a token with an unknown `kid` waits for a refetch (that is how a rotated key is picked up), but at most
 *   one per cooldown and none during a backoff, so garbage `kid`s cannot hammer the issuer.
 */
export class JwksCache {
  private keys: JWTVerifyGetKey | null = null;
  private fetchedAt = 0;
  private lastAttemptAt = 0;
  private inflight: Promise<void> | null = null;
  private consecutiveFailures = 0;
  private retryAt = 0;
  private readonly refreshCooldownMs: number;
  private readonly maxAgeMs: number;
  private readonly timeoutMs: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;

  constructor(
    private readonly url: string,
    private readonly log: Logger,
    options: JwksCacheOptions = {},
  ) {
    this.refreshCooldownMs = options.refreshCooldownMs ?? 30_000;
    this.maxAgeMs = options.maxAgeMs ?? 600_000;
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.backoffBaseMs = options.backoffBaseMs ?? 1_000;
    this.backoffMaxMs = Math.max(options.backoffMaxMs ?? 30_000, this.backoffBaseMs);
  }

  /** A jose key resolver for jwtVerify. */
  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    const keys = this.keys ?? (await this.firstKeys());
    if (Date.now() - this.fetchedAt > this.maxAgeMs && !this.inflight && !this.inBackoff()) void this.refresh();
    try {
      return await keys(header, token);
    } catch (error) {
      if (!(error instanceof joseErrors.JWKSNoMatchingKey)) throw error;
      // An in-flight fetch, whatever started it, is the one that would bring a rotated key: share it rather
      // than reject a valid token or start a second fetch. Otherwise the cooldown and the backoff decide.
      if (!this.inflight && (this.inBackoff() || Date.now() - this.lastAttemptAt < this.refreshCooldownMs)) throw error;
      await this.refresh();
      return (this.keys ?? keys)(header, token);
    }
  };

  private async firstKeys(): Promise<JWTVerifyGetKey> {
    if (!this.inflight && this.inBackoff()) throw this.unavailable();
    await this.refresh();
    if (!this.keys) throw this.unavailable();
    return this.keys;
  }

  private unavailable(): JwksUnavailableError {
    return new JwksUnavailableError(`The token issuer's keys at ${this.url} could not be fetched.`);
  }

  private inBackoff(): boolean {
    return Date.now() < this.retryAt;
  }

  private refresh(): Promise<void> {
    this.inflight ??= this.fetchKeys().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  /** Never rejects: a failure is logged and turned into a backoff, and the cached keys stay. */
  private async fetchKeys(): Promise<void> {
    this.lastAttemptAt = Date.now();
    try {
      // The signal also aborts reading the body, so an issuer that sends headers and then stalls is bounded too.
      const response = await fetch(this.url, { signal: AbortSignal.timeout(this.timeoutMs), headers: { accept: "application/json" } });
      if (!response.ok) throw new Error(`answered ${response.status}`);
      const jwks = (await response.json()) as JSONWebKeySet;
      // An empty or encryption-only set would otherwise replace good keys and reject every token.
      if (!Array.isArray(jwks?.keys) || !jwks.keys.some(isSigningKey)) throw new Error("answered a key set with no signing keys");
      this.keys = createLocalJWKSet(jwks);
      this.fetchedAt = Date.now();
      if (this.consecutiveFailures > 0) this.log.info({ jwksUrl: this.url, failedAttempts: this.consecutiveFailures }, "fetched the issuer's keys again");
      this.consecutiveFailures = 0;
      this.retryAt = 0;
    } catch (error) {
      this.consecutiveFailures += 1;
      const ceiling = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** Math.min(this.consecutiveFailures - 1, 30));
      // Jitter only downwards, so the cap holds, and replicas that failed together do not retry together.
      const backoffMs = Math.round(ceiling * (1 - Math.random() * 0.2));
      this.retryAt = Date.now() + backoffMs;
      this.log.warn(
        { jwksUrl: this.url, err: error, cachedKeys: this.keys !== null, failedAttempts: this.consecutiveFailures, retryInMs: backoffMs },
        this.keys ? "could not refresh the issuer's keys; keeping the cached ones" : "could not fetch the issuer's keys; tokens cannot be verified until a retry succeeds",
      );
    }
  }
}

function isSigningKey(jwk: JWK): boolean {
  return (
    typeof jwk === "object" &&
    jwk !== null &&
    typeof jwk.kty === "string" &&
    jwk.kty !== "oct" &&
    (jwk.use === undefined || jwk.use === "sig") &&
    (jwk.key_ops === undefined || (Array.isArray(jwk.key_ops) && jwk.key_ops.includes("verify")))
  );
}
