import { createLocalJWKSet, errors as joseErrors, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";
import type { Logger } from "@kombify/service-core";

export interface JwksCacheOptions {
  /** Shortest time between two fetches caused by tokens with an unknown `kid`. @default 30000 */
  refreshCooldownMs?: number;
  /** Age after which the keys are refetched before use; a failed refetch keeps the old keys. @default 600000 */
  maxAgeMs?: number;
  /** @default 5000 */
  timeoutMs?: number;
}

/** The issuer's keys could not be had and none are cached: a dependency is down, not the caller's fault. */
export class JwksUnavailableError extends Error {}

/**
 * The issuer's signing keys, fetched once and kept: a token with an unknown `kid` triggers a refetch (at most
 * once per cooldown, so garbage `kid`s cannot hammer the issuer), rotated keys are picked up without a
 * restart, and an issuer outage leaves the last good keys in use.
 */
export class JwksCache {
  private keys: JWTVerifyGetKey | null = null;
  private fetchedAt = 0;
  private lastAttemptAt = 0;
  private inflight: Promise<void> | null = null;
  private readonly refreshCooldownMs: number;
  private readonly maxAgeMs: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly url: string,
    private readonly log: Logger,
    options: JwksCacheOptions = {},
  ) {
    this.refreshCooldownMs = options.refreshCooldownMs ?? 30_000;
    this.maxAgeMs = options.maxAgeMs ?? 600_000;
    this.timeoutMs = options.timeoutMs ?? 5_000;
  }

  /** A jose key resolver for jwtVerify. */
  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    if (!this.keys || Date.now() - this.fetchedAt > this.maxAgeMs) await this.refresh();
    if (!this.keys) throw new JwksUnavailableError(`The token issuer's keys at ${this.url} could not be fetched.`);
    try {
      return await this.keys(header, token);
    } catch (error) {
      if (!(error instanceof joseErrors.JWKSNoMatchingKey) || Date.now() - this.lastAttemptAt < this.refreshCooldownMs) throw error;
      await this.refresh();
      return this.keys(header, token);
    }
  };

  private refresh(): Promise<void> {
    this.inflight ??= this.fetchKeys().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private async fetchKeys(): Promise<void> {
    this.lastAttemptAt = Date.now();
    try {
      const response = await fetch(this.url, { signal: AbortSignal.timeout(this.timeoutMs), headers: { accept: "application/json" } });
      if (!response.ok) throw new Error(`answered ${response.status}`);
      const jwks = (await response.json()) as JSONWebKeySet;
      this.keys = createLocalJWKSet(jwks);
      this.fetchedAt = Date.now();
    } catch (error) {
      this.log.warn({ jwksUrl: this.url, err: error, cachedKeys: this.keys !== null }, "could not refresh the issuer's keys; keeping the cached ones");
    }
  }
}
