import { describe, expect, it } from "vitest";
import { testContextKeys } from "@kombify/testkit";
import { apolloTelemetryWouldBeSent, parseGatewayConfig } from "../src/config.js";

describe("gateway config", () => {
  const base = async () => ({ NODE_ENV: "development", DATABASE_URL: "postgres://postgres@127.0.0.1:5432/x", CONTEXT_SIGNING_KEY: (await testContextKeys()).signingKey });

  it("keeps @apollo/gateway's usage metrics to Apollo off unless APOLLO_TELEMETRY_DISABLED=false opts in", async () => {
    const env = await base();
    expect(parseGatewayConfig(env).apolloTelemetryDisabled).toBe(true);
    expect(parseGatewayConfig({ ...env, APOLLO_TELEMETRY_DISABLED: "false" }).apolloTelemetryDisabled).toBe(false);
    expect(() => parseGatewayConfig({ ...env, APOLLO_TELEMETRY_DISABLED: "maybe" })).toThrow(/APOLLO_TELEMETRY_DISABLED/);
  });

  it("tells when @apollo/gateway would send usage metrics against the config: it reads only the process environment", () => {
    const off = { apolloTelemetryDisabled: true };
    expect(apolloTelemetryWouldBeSent(off, {})).toBe(true);
    expect(apolloTelemetryWouldBeSent(off, { APOLLO_TELEMETRY_DISABLED: "false" })).toBe(true);
    expect(apolloTelemetryWouldBeSent(off, { APOLLO_TELEMETRY_DISABLED: "true" })).toBe(false);
    expect(apolloTelemetryWouldBeSent(off, { APOLLO_TELEMETRY_DISABLED: "1" })).toBe(false);
    expect(apolloTelemetryWouldBeSent({ apolloTelemetryDisabled: false }, {})).toBe(false);
  });
});
