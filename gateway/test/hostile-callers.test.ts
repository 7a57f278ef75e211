import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestSupergraph, TEST_PLATFORM_ORG, uniqueSuffix, wsClient, collect, type TestSupergraph } from "@kombify/testkit";
import { parseGatewayConfig } from "../src/config.js";
import { testContextKeys } from "@kombify/testkit";

/** Callers who try what they should not: roles from the wrong organisation, hostile claims and strings, oversized operations. */
describe("hostile callers at the gateway", () => {
  let graph: TestSupergraph;
  const orgA = `org-a-${uniqueSuffix()}`;
  const orgB = `org-b-${uniqueSuffix()}`;
  let ownerA: string;
  let tenantB = "";

  beforeAll(async () => {
    graph = await startTestSupergraph({ gatewayEnv: { INTROSPECTION_ENABLED: "false" } });
    ownerA = await graph.issuer.mint({ sub: `owner-a-${uniqueSuffix()}`, orgId: orgA, roles: ["tenant:owner"] });
    const ownerB = await graph.issuer.mint({ sub: `owner-b-${uniqueSuffix()}`, orgId: orgB, roles: ["tenant:owner"] });
    expect((await graph.graphql(`mutation { createTenant(name: "A", slug: "ha-${uniqueSuffix()}") { id } }`, { token: ownerA })).errors).toBeUndefined();
    tenantB = (await graph.graphql(`mutation { createTenant(name: "B", slug: "hb-${uniqueSuffix()}") { id } }`, { token: ownerB })).data.createTenant.id;
  });
  afterAll(() => graph?.stop());

  it("grants platform:admin only when the platform's own organisation granted it, never a customer organisation", async () => {
    const selfGranted = await graph.issuer.mint({ sub: `u-${uniqueSuffix()}`, orgId: orgA, roles: ["platform:admin"] });
    const instances = await graph.graphql("{ instances { name tenantCount } }", { token: selfGranted });
    expect(instances.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const flag = await graph.graphql(`mutation { setFeatureFlag(tenantId: "${tenantB}", key: "beta", enabled: true) { key } }`, { token: selfGranted });
    expect(flag.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect((await graph.graphql("{ me { roles } }", { token: selfGranted })).data.me.roles).toEqual([]);

    const platformAdmin = await graph.issuer.mint({ sub: `admin-${uniqueSuffix()}`, orgId: TEST_PLATFORM_ORG, roles: ["platform:admin"] });
    expect((await graph.graphql("{ instances { name } }", { token: platformAdmin })).errors).toBeUndefined();
    // Granted by the platform organisation to a user of a customer organisation: Zitadel's cross-organisation grant.
    const granted = await graph.issuer.mint({ sub: `ops-${uniqueSuffix()}`, orgId: orgA, roles: ["platform:admin"], grantedBy: TEST_PLATFORM_ORG });
    expect((await graph.graphql("{ instances { name } }", { token: granted })).errors).toBeUndefined();
  });

  it("counts tenant roles only when the caller's own organisation granted them", async () => {
    const grantedByB = await graph.issuer.mint({ sub: `u-${uniqueSuffix()}`, orgId: orgA, roles: ["tenant:owner"], grantedBy: orgB });
    const audit = await graph.graphql("{ auditLog { action } }", { token: grantedByB });
    expect(audit.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect((await graph.graphql("{ auditLog { action } }", { token: ownerA })).errors).toBeUndefined();
  });

  it("refuses tokens whose e-mail is no address or whose name holds a control character, with BAD_USER_INPUT", async () => {
    for (const claims of [{ email: "not-an-address" }, { name: "Mallory\u0000" }, { email: "a@b.test\u0000" }]) {
      const token = await graph.issuer.mint({ sub: `u-${uniqueSuffix()}`, orgId: orgA, ...claims });
      const answer = await graph.graphql("mutation { launchHomelab { token } }", { token });
      expect(answer.status).toBe(400);
      expect(answer.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    }
  });

  it("refuses NUL in any input string, literal or variable, before any subgraph sees it", async () => {
    const fresh = await graph.issuer.mint({ sub: `u-${uniqueSuffix()}`, orgId: `org-${uniqueSuffix()}`, roles: ["tenant:owner"] });
    const literal = await graph.graphql('mutation { createTenant(name: "bad\\u0000name") { id } }', { token: fresh });
    expect(literal.status).toBe(400);
    expect(literal.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    const variable = await graph.graphql("mutation($name: String!) { createTenant(name: $name) { id } }", { token: fresh, variables: { name: "bad\u0000name" } });
    expect(variable.errors?.[0]).toMatchObject({ extensions: { code: "BAD_USER_INPUT", field: "$name" } });
    const nested = await graph.graphql("mutation($nodes: [NodeInput!]!) { createStack(name: \"s\", stackKitId: \"base-homelab\", nodes: $nodes) { id } }", {
      token: ownerA,
      variables: { nodes: [{ hostname: "ok", address: "10.0.0.1" }, { hostname: "x\u0000", address: "10.0.0.2" }] },
    });
    expect(nested.errors?.[0]).toMatchObject({ extensions: { code: "BAD_USER_INPUT", field: "$nodes[1].hostname" } });
    expect((await graph.graphql("{ myTenant { id } }", { token: fresh })).data.myTenant).toBeNull();
  });

  it("refuses operations beyond the depth, alias, root-field and directive ceilings with BAD_USER_INPUT naming the ceiling", async () => {
    const deep = "{ stacks { jobs { stack { jobs { stack { jobs { stack { jobs { stack { jobs { id } } } } } } } } } } }";
    const aliases = `{ ${Array.from({ length: 1000 }, (_, i) => `t${i}: myTenant { stacks { id nodes { id } } plan { name } }`).join(" ")} }`;
    const directives = `{ myTenant ${"@include(if: true) ".repeat(60)} { id } }`;
    for (const [query, ceiling] of [[deep, "maxDepth"], [aliases, "maxAliases"], [directives, "maxDirectives"]] as const) {
      const answer = await graph.graphql(query, { token: ownerA });
      expect(answer.status).toBe(400);
      expect(answer.errors?.map((error) => error.extensions?.ceiling)).toContain(ceiling);
      expect(answer.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
      expect(answer.errors?.[0]?.message).toContain(`(${ceiling})`);
    }
  });

  it("holds operations over the socket to the same ceilings, and keeps the socket open for the next one", async () => {
    const client = wsClient(`${graph.url}/graphql`, { authorization: `Bearer ${ownerA}` });
    try {
      const wide = `subscription { jobUpdated { ${Array.from({ length: 600 }, (_, i) => `f${i}: id`).join(" ")} } }`;
      await expect(collect(client, wide).done).rejects.toMatchObject([{ extensions: { code: "BAD_USER_INPUT", ceiling: "maxAliases" } }, { extensions: { code: "BAD_USER_INPUT", ceiling: "maxFields" } }, { extensions: { code: "BAD_USER_INPUT", ceiling: "maxSubscriptionFields" } }]);
      await expect(collect(client, "subscription($id: ID) { jobUpdated(jobId: $id) { id } }", { id: "x\u0000" }).done).rejects.toMatchObject([{ extensions: { code: "BAD_USER_INPUT", field: "$id" } }]);
      const query = collect(client, "{ plans { tier } }");
      await query.done;
      expect(query.events[0]?.data).toBeTruthy();
      // A request id no log line should carry (a newline, 100 KB) is replaced, and the caller's operation still runs.
      for (const requestId of ["forged\nlog line", "x".repeat(100_000)]) {
        const subscription = collect(client, "subscription { jobUpdated { id } }", {}, { requestId });
        const mine = collect(client, "{ myTenant { id } }", {}, { requestId });
        await mine.done;
        expect(mine.events[0]?.errors).toBeUndefined();
        expect(mine.events[0]?.data).toMatchObject({ myTenant: { id: expect.any(String) } });
        subscription.unsubscribe();
      }
    } finally {
      await client.dispose();
    }
  });

  it("serves metrics only on their own listener: the public port answers 404 for /metrics", async () => {
    expect((await fetch(`${graph.url}/metrics`)).status).toBe(404);
    expect((await graph.metrics()).process.rssBytes).toBeGreaterThan(0);
  });

  it("answers no introspection and suggests no field names when introspection is off", async () => {
    const introspection = await graph.graphql("{ __schema { types { name } } }");
    expect(introspection.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    const typo = await graph.graphql("{ stackKit(id: \"x\") { nam } }");
    expect(typo.errors?.[0]?.message).not.toMatch(/Did you mean/);
  });

  it("turns introspection off in production unless INTROSPECTION_ENABLED=true", async () => {
    const env = { NODE_ENV: "production", DATABASE_URL: "postgres://postgres@127.0.0.1:5432/x", CONTEXT_SIGNING_KEY: (await testContextKeys()).signingKey, OIDC_ISSUER: "https://auth.example.test", OIDC_AUDIENCE: "p", PLATFORM_ORG_ID: "platform" };
    expect(parseGatewayConfig(env).introspection).toBe(false);
    expect(parseGatewayConfig({ ...env, INTROSPECTION_ENABLED: "true" }).introspection).toBe(true);
    expect(parseGatewayConfig({ ...env, NODE_ENV: "development" }).introspection).toBe(true);
    expect(() => parseGatewayConfig({ ...env, PLATFORM_ORG_ID: "" })).toThrow(/PLATFORM_ORG_ID is required/);
  });
});
