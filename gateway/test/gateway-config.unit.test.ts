import { describe, expect, it } from "vitest";
import { testContextKeys } from "@kombify/testkit";
import { parseGatewayConfig } from "../src/config.js";

describe("gateway config", () => {
  const base = async () => ({ NODE_ENV: "development", DATABASE_URL: "postgres://postgres@127.0.0.1:5432/x", CONTEXT_SIGNING_KEY: (await testContextKeys()).signingKey });

  it("keeps SUBGRAPH_CONNECTIONS keep-alive connections per subgraph (64 unless set), and refuses a count outside 1 to 1024", async () => {
    const env = await base();
    expect(parseGatewayConfig(env).subgraphConnections).toBe(64);
    expect(parseGatewayConfig({ ...env, SUBGRAPH_CONNECTIONS: "8" }).subgraphConnections).toBe(8);
    for (const bad of ["0", "1025", "many", "-3"]) expect(() => parseGatewayConfig({ ...env, SUBGRAPH_CONNECTIONS: bad })).toThrow(/SUBGRAPH_CONNECTIONS/);
  });
});
