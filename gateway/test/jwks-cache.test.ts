import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { errors as joseErrors, exportJWK, generateKeyPair, jwtVerify, SignJWT, type CryptoKey, type JWK } from "jose";
import { createLogger } from "@kombify/service-core/logging";
import { JwksCache, JwksUnavailableError, type JwksCacheOptions } from "../src/auth/jwks-cache.js";

type Mode = "ok" | "hang" | "error" | "empty";

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/** A JWKS endpoint on 127.0.0.1 that can be made to hang or fail, and counts what it receives. */
interface FakeIssuer {
  url: string;
  mode: Mode;
  /** Requests received so far. */
  readonly requests: number;
  /** Most requests that were open at the same time. */
  readonly maxOpen: number;
  publish(key: SigningKey): void;
  close(): Promise<void>;
}

const log = createLogger("test", "silent");
const openIssuers: FakeIssuer[] = [];

afterEach(async () => {
  await Promise.all(openIssuers.splice(0).map((issuer) => issuer.close()));
});

async function startIssuer(...keys: SigningKey[]): Promise<FakeIssuer> {
  const published = keys.map((key) => key.publicJwk);
  let requests = 0;
  let open = 0;
  let maxOpen = 0;
  const state = { mode: "ok" as Mode };
  const server: Server = createServer((_req, res) => {
    requests += 1;
    open += 1;
    maxOpen = Math.max(maxOpen, open);
    res.on("close", () => {
      open -= 1;
    });
    if (state.mode === "hang") return;
    if (state.mode === "error") {
      res.writeHead(500).end("boom");
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ keys: state.mode === "empty" ? [] : published }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const issuer: FakeIssuer = {
    url: `http://127.0.0.1:${port}/oauth/v2/keys`,
    get mode() {
      return state.mode;
    },
    set mode(mode: Mode) {
      state.mode = mode;
    },
    get requests() {
      return requests;
    },
    get maxOpen() {
      return maxOpen;
    },
    publish: (key) => published.push(key.publicJwk),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  openIssuers.push(issuer);
  return issuer;
}

async function newKey(): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
  const kid = randomUUID();
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" } };
}

function sign(key: SigningKey, kid = key.kid): Promise<string> {
  return new SignJWT({}).setProtectedHeader({ alg: "RS256", kid }).setSubject("u-1").setIssuedAt().setExpirationTime("5m").sign(key.privateKey);
}

function cacheFor(issuer: FakeIssuer, options: JwksCacheOptions): JwksCache {
  return new JwksCache(issuer.url, log, options);
}

async function verify(cache: JwksCache, token: string): Promise<string | undefined> {
  const { payload } = await jwtVerify(token, cache.getKey, { algorithms: ["RS256"] });
  return payload.sub;
}

/** How long the work took; it must not throw (its own assertions still fail the test). */
async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("JwksCache against a misbehaving issuer", () => {
  it("answers from stale keys at once while the issuer hangs, with a single request open at the issuer", async () => {
    // Protects every request from waiting out the fetch timeout when the keys are due for a refresh and the issuer hangs.
    const key = await newKey();
    const issuer = await startIssuer(key);
    const timeoutMs = 2_500;
    const cache = cacheFor(issuer, { maxAgeMs: 100, timeoutMs, refreshCooldownMs: 60_000, backoffBaseMs: 200 });
    const token = await sign(key);
    expect(await verify(cache, token)).toBe("u-1");

    await sleep(150);
    issuer.mode = "hang";
    const durations: number[] = [];
    const verifyTimed = () => timed(async () => expect(await verify(cache, token)).toBe("u-1"));
    for (let i = 0; i < 20; i += 1) durations.push(await verifyTimed());
    durations.push(...(await Promise.all(Array.from({ length: 20 }, verifyTimed))));

    for (const duration of durations) expect(duration).toBeLessThan(timeoutMs / 5);
    expect(issuer.requests).toBe(2);
    expect(issuer.maxOpen).toBe(1);
  });

  it("keeps serving stale keys and backs off while the issuer answers 500", async () => {
    // Protects the issuer (and the gateway) from one refetch per request while the issuer is failing.
    const key = await newKey();
    const issuer = await startIssuer(key);
    const backoffBaseMs = 200;
    const cache = cacheFor(issuer, { maxAgeMs: 50, timeoutMs: 2_000, refreshCooldownMs: 60_000, backoffBaseMs, backoffMaxMs: 5_000 });
    const token = await sign(key);
    expect(await verify(cache, token)).toBe("u-1");

    await sleep(60);
    issuer.mode = "error";
    const started = performance.now();
    for (let i = 0; i < 50; i += 1) {
      await expect(verify(cache, token)).resolves.toBe("u-1");
      await sleep(10);
    }
    const elapsed = performance.now() - started;

    // The backoff before attempt k+1 is at least 0.8 * base * 2^(k-1), so n attempts span at least
    // 0.8 * base * (2^(n-1) - 1) ms; one attempt of slack on top.
    const maxAttempts = 1 + Math.floor(Math.log2(elapsed / (0.8 * backoffBaseMs) + 1)) + 1;
    const failedFetches = issuer.requests - 1;
    expect(failedFetches).toBeGreaterThanOrEqual(1);
    expect(failedFetches).toBeLessThanOrEqual(maxAttempts);
    expect(failedFetches).toBeLessThan(10);
  });

  it("fails fast without keys while the issuer answers 500, and recovers once it answers again", async () => {
    // Protects requests from queueing on (and the issuer from a refetch per request by) a gateway that never got keys.
    const key = await newKey();
    const issuer = await startIssuer(key);
    issuer.mode = "error";
    const timeoutMs = 2_000;
    const backoffBaseMs = 300;
    const cache = cacheFor(issuer, { timeoutMs, refreshCooldownMs: 60_000, backoffBaseMs, backoffMaxMs: backoffBaseMs });
    const token = await sign(key);

    await expect(verify(cache, token)).rejects.toBeInstanceOf(JwksUnavailableError);
    expect(issuer.requests).toBe(1);
    for (let i = 0; i < 30; i += 1) {
      const duration = await timed(async () => {
        await expect(verify(cache, token)).rejects.toBeInstanceOf(JwksUnavailableError);
      });
      expect(duration).toBeLessThan(timeoutMs / 10);
    }
    expect(issuer.requests).toBe(1);

    issuer.mode = "ok";
    await sleep(backoffBaseMs + 50);
    expect(await verify(cache, token)).toBe("u-1");
    expect(issuer.requests).toBe(2);
  });

  it("makes concurrent first requests share one fetch, bounded by the fetch timeout, when the issuer hangs", async () => {
    // Protects the issuer from a fetch per waiting request, and requests from waiting longer than the timeout, on a cold start.
    const key = await newKey();
    const issuer = await startIssuer(key);
    issuer.mode = "hang";
    const timeoutMs = 300;
    const cache = cacheFor(issuer, { timeoutMs, backoffBaseMs: 5_000 });
    const token = await sign(key);

    const started = performance.now();
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => verify(cache, token)));
    const elapsed = performance.now() - started;

    for (const result of results) expect(result.status === "rejected" && result.reason instanceof JwksUnavailableError).toBe(true);
    expect(issuer.requests).toBe(1);
    expect(elapsed).toBeGreaterThanOrEqual(timeoutMs * 0.9);
    expect(elapsed).toBeLessThan(timeoutMs * 5);
  });

  it("fetches at most once per cooldown for a flood of tokens with unknown kids", async () => {
    // Protects the issuer from being hammered through the gateway by tokens carrying made-up key ids.
    const key = await newKey();
    const issuer = await startIssuer(key);
    const refreshCooldownMs = 500;
    const cache = cacheFor(issuer, { refreshCooldownMs, maxAgeMs: 600_000, timeoutMs: 2_000 });
    const garbage = await Promise.all(Array.from({ length: 100 }, () => sign(key, randomUUID())));
    expect(await verify(cache, await sign(key))).toBe("u-1");

    // Within the cooldown of the first fetch: no fetch at all.
    for (const token of garbage.slice(0, 50)) await expect(verify(cache, token)).rejects.toBeInstanceOf(joseErrors.JWKSNoMatchingKey);
    expect(issuer.requests).toBe(1);

    await sleep(refreshCooldownMs + 50);
    const results = await Promise.allSettled(garbage.map((token) => verify(cache, token)));
    for (const result of results) expect(result.status === "rejected" && result.reason instanceof joseErrors.JWKSNoMatchingKey).toBe(true);
    for (const token of garbage) await expect(verify(cache, token)).rejects.toBeInstanceOf(joseErrors.JWKSNoMatchingKey);
    expect(issuer.requests).toBe(2);

    await sleep(refreshCooldownMs + 50);
    for (const token of garbage) await expect(verify(cache, token)).rejects.toBeInstanceOf(joseErrors.JWKSNoMatchingKey);
    expect(issuer.requests).toBe(3);
  });

  it("does not refetch for unknown kids while backing off from a failed fetch", async () => {
    // Protects a failing issuer from unknown-kid refetches that the cooldown alone would allow.
    const key = await newKey();
    const issuer = await startIssuer(key);
    const cache = cacheFor(issuer, { refreshCooldownMs: 50, maxAgeMs: 600_000, timeoutMs: 2_000, backoffBaseMs: 5_000 });
    expect(await verify(cache, await sign(key))).toBe("u-1");
    issuer.mode = "error";

    await sleep(60);
    await expect(verify(cache, await sign(key, randomUUID()))).rejects.toBeInstanceOf(joseErrors.JWKSNoMatchingKey);
    expect(issuer.requests).toBe(2);
    await sleep(60);
    for (let i = 0; i < 20; i += 1) await expect(verify(cache, await sign(key, randomUUID()))).rejects.toBeInstanceOf(joseErrors.JWKSNoMatchingKey);
    expect(issuer.requests).toBe(2);
    expect(await verify(cache, await sign(key))).toBe("u-1");
  });

  it("keeps the cached keys when the issuer answers a key set without signing keys", async () => {
    // Protects every token from being rejected because the issuer briefly published an empty key set.
    const key = await newKey();
    const issuer = await startIssuer(key);
    const cache = cacheFor(issuer, { maxAgeMs: 50, refreshCooldownMs: 60_000, backoffBaseMs: 5_000 });
    const token = await sign(key);
    expect(await verify(cache, token)).toBe("u-1");

    issuer.mode = "empty";
    await sleep(60);
    expect(await verify(cache, token)).toBe("u-1");
    await expect.poll(() => issuer.requests).toBe(2);
    await sleep(60);
    for (let i = 0; i < 10; i += 1) expect(await verify(cache, token)).toBe("u-1");
    expect(issuer.requests).toBe(2);
  });

  it("picks up a newly published key with one refetch", async () => {
    // Protects key rotation: a token signed by a key the issuer has just published verifies without a restart.
    const oldKey = await newKey();
    const issuer = await startIssuer(oldKey);
    const refreshCooldownMs = 200;
    const cache = cacheFor(issuer, { refreshCooldownMs, maxAgeMs: 600_000, timeoutMs: 2_000 });
    expect(await verify(cache, await sign(oldKey))).toBe("u-1");

    const newKeyPair = await newKey();
    issuer.publish(newKeyPair);
    await sleep(refreshCooldownMs + 50);
    const rotated = await sign(newKeyPair);
    expect(await verify(cache, rotated)).toBe("u-1");
    expect(await verify(cache, rotated)).toBe("u-1");
    expect(await verify(cache, await sign(oldKey))).toBe("u-1");
    expect(issuer.requests).toBe(2);
  });
});
