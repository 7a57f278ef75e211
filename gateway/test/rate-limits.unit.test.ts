import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { testContextKeys } from "@kombify/testkit";
import { parseGatewayConfig } from "../src/config.js";
import { budgetAddress, ClientAddresses } from "../src/rate-limits/client-address.js";
import { rateLimitHeaders } from "../src/rate-limits/rate-limits.js";

const request = (remoteAddress: string, forwardedFor?: string | string[]) =>
  ({ socket: { remoteAddress }, headers: forwardedFor === undefined ? {} : { "x-forwarded-for": forwardedFor } }) as unknown as IncomingMessage;

describe("rate limit settings and headers", () => {
  const base = async () => ({ NODE_ENV: "development", DATABASE_URL: "postgres://postgres@127.0.0.1:5432/x", CONTEXT_SIGNING_KEY: (await testContextKeys()).signingKey });

  it("is on by default, in the process, with 60 a minute for anonymous callers and no trusted proxies", async () => {
    expect(parseGatewayConfig(await base()).rateLimits).toEqual({ enabled: true, anonymousPerMinute: 60, redis: null, countedByPrimary: false, trustedProxies: [] });
    const configured = parseGatewayConfig({
      ...(await base()),
      RATE_LIMIT_ENABLED: "false",
      RATE_LIMIT_ANONYMOUS_PER_MINUTE: "30",
      REDIS_URL: "redis://:secret@10.0.0.5:6379/2",
      RATE_LIMIT_REDIS_PREFIX: "kombify:eu",
      TRUSTED_PROXIES: "10.0.0.0/8, 127.0.0.1,::1,fd00::/8",
    });
    expect(configured.rateLimits).toEqual({
      enabled: false,
      anonymousPerMinute: 30,
      redis: { url: "redis://:secret@10.0.0.5:6379/2", keyPrefix: "kombify:eu" },
      countedByPrimary: false,
      trustedProxies: ["10.0.0.0/8", "127.0.0.1", "::1", "fd00::/8"],
    });
  });

  it("refuses settings it cannot use, naming the variable", async () => {
    const env = await base();
    expect(() => parseGatewayConfig({ ...env, TRUSTED_PROXIES: "kong.internal" })).toThrow(/TRUSTED_PROXIES/);
    expect(() => parseGatewayConfig({ ...env, TRUSTED_PROXIES: "10.0.0.0/33" })).toThrow(/TRUSTED_PROXIES/);
    expect(() => parseGatewayConfig({ ...env, REDIS_URL: "127.0.0.1:6379" })).toThrow(/REDIS_URL/);
    expect(() => parseGatewayConfig({ ...env, RATE_LIMIT_ANONYMOUS_PER_MINUTE: "0" })).toThrow(/RATE_LIMIT_ANONYMOUS_PER_MINUTE/);
    expect(() => parseGatewayConfig({ ...env, PLANS_FILE: "" })).not.toThrow();
  });

  it("writes the IETF draft's RateLimit-Policy and RateLimit headers", () => {
    expect(rateLimitHeaders({ allowed: true, policy: "free", limit: 100, remaining: 99, resetSeconds: 60 })).toEqual({
      "ratelimit-policy": '"free";q=100;w=60',
      ratelimit: '"free";r=99;t=60',
    });
  });
});

describe("the client address of an anonymous caller", () => {
  it("is the socket's peer, whatever X-Forwarded-For says, without trusted proxies", () => {
    const addresses = new ClientAddresses([]);
    expect(addresses.of(request("203.0.113.9", "198.51.100.1"))).toBe("203.0.113.9");
    expect(addresses.of(request("::ffff:203.0.113.9"))).toBe("203.0.113.9");
    expect(addresses.of(request("2001:db8::1", "198.51.100.1"))).toBe("2001:db8::1");
  });

  it("is the nearest untrusted hop of X-Forwarded-For when the peer is a trusted proxy", () => {
    const addresses = new ClientAddresses(["10.0.0.0/8", "127.0.0.1", "fd00::/8"]);
    expect(addresses.of(request("127.0.0.1", "198.51.100.1"))).toBe("198.51.100.1");
    // What the client wrote itself is on the left; each trusted proxy appended the hop it saw.
    expect(addresses.of(request("::ffff:127.0.0.1", "1.1.1.1, 198.51.100.1, 10.0.0.7"))).toBe("198.51.100.1");
    expect(addresses.of(request("10.1.1.1", ["1.1.1.1", "2001:db8::5, fd00::1"]))).toBe("2001:db8::5");
    // An untrusted peer's header is not read at all.
    expect(addresses.of(request("203.0.113.9", "198.51.100.1"))).toBe("203.0.113.9");
    // Every hop trusted, or no header: the last trusted one; something that is no address: the hop right of it.
    expect(addresses.of(request("127.0.0.1", "10.0.0.1, 10.0.0.2"))).toBe("10.0.0.1");
    expect(addresses.of(request("127.0.0.1"))).toBe("127.0.0.1");
    expect(addresses.of(request("127.0.0.1", "evil, 10.0.0.2"))).toBe("10.0.0.2");
  });
});

describe("the address an anonymous budget is kept by", () => {
  it("keeps IPv4 addresses apart and an IPv6 host's whole /64 together", () => {
    expect(budgetAddress("203.0.113.7")).toBe("203.0.113.7");
    expect(budgetAddress("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(budgetAddress("2001:db8:1:2:ffff:ffff:ffff:ffff")).toBe("2001:db8:1:2::/64");
    expect(budgetAddress("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(budgetAddress("::1")).toBe("0:0:0:0::/64");
  });
});
