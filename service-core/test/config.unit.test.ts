import { describe, expect, it } from "vitest";
import { ConfigError, parseSubgraphSettings } from "@kombify/service-core";

const valid = { DATABASE_URL: "postgres://u@127.0.0.1:5432/db", CONTEXT_VERIFY_KEY: "-----BEGIN PUBLIC KEY-----\\nabc\\n-----END PUBLIC KEY-----" };

describe("environment configuration", () => {
  it("applies documented defaults and un-escapes PEM newlines", () => {
    const settings = parseSubgraphSettings(4003, valid);
    expect(settings).toMatchObject({ PORT: 4003, HOST: "127.0.0.1", NODE_ENV: "development", POCKETBASE_URL: "http://127.0.0.1:8090" });
    expect(settings.CONTEXT_VERIFY_KEY).toContain("\n");
  });

  it("names every missing or malformed variable and what it expects", () => {
    try {
      parseSubgraphSettings(4003, { PORT: "eighty", POCKETBASE_URL: "ftp://x", NODE_ENV: "staging" });
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
    expect(() => parseSubgraphSettings(4003, { ...valid, NODE_ENV: "production" })).toThrow(/POCKETBASE_SUPERUSER_PASSWORD/);
  });
});
