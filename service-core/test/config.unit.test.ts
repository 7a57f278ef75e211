import { describe, expect, it } from "vitest";
import { assertHomelabStoreSecrets, homelabStoreSettingsShape } from "@kombify/homelab-store";
import { ConfigError } from "@kombify/service-core/config";
import { defineSubgraph, parseSubgraphSettings } from "@kombify/service-core/server/subgraph-runtime";

const valid = { DATABASE_URL: "postgres://u@127.0.0.1:5432/db", CONTEXT_VERIFY_KEY: "-----BEGIN PUBLIC KEY-----\\nabc\\n-----END PUBLIC KEY-----" };

/** A subgraph with the kernel's settings and a store's, as the tenant, identity and stack subgraphs have. */
const probe = defineSubgraph({
  name: "stack",
  settings: homelabStoreSettingsShape,
  check: assertHomelabStoreSecrets,
  create: () => Promise.reject(new Error("not started in this test")),
});

describe("environment configuration", () => {
  it("applies documented defaults, the registry's port, and un-escapes PEM newlines", () => {
    const settings = parseSubgraphSettings(probe, valid);
    expect(settings).toMatchObject({ PORT: 4003, HOST: "127.0.0.1", NODE_ENV: "development", POCKETBASE_URL: "http://127.0.0.1:8090" });
    expect(settings.CONTEXT_VERIFY_KEY).toContain("\n");
  });

  it("names every missing or malformed variable and what it expects, the kernel's and the subgraph's alike", () => {
    try {
      parseSubgraphSettings(probe, { PORT: "eighty", POCKETBASE_URL: "ftp://x", NODE_ENV: "staging" });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as ConfigError).message;
      expect(message).toContain('Invalid configuration: PORT="eighty" is invalid: a TCP port number');
      expect(message).toContain("DATABASE_URL is required: a PostgreSQL URL");
      expect(message).toContain("CONTEXT_VERIFY_KEY is required");
      expect(message).toContain('POCKETBASE_URL="ftp://x" is invalid: an http(s) URL');
      expect(message).toContain("NODE_ENV");
    }
  });

  it("refuses the development PocketBase password in production", () => {
    expect(() => parseSubgraphSettings(probe, { ...valid, NODE_ENV: "production" })).toThrow(/POCKETBASE_SUPERUSER_PASSWORD/);
  });
});
