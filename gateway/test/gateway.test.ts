import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { tables } from "@kombify/testkit";
import { startTestSupergraph, uniqueSuffix, type TestSupergraph } from "@kombify/testkit";

const CROSS_SUBGRAPH = "{ myTenant { name slug plan { name } instance { name } stacks { name nodes { hostname } stackKit { name tier entitled } } } me { email tenant { slug } } }";

describe("gateway over the six subgraphs", () => {
  let graph: TestSupergraph;
  let token: string;
  let orgId: string;
  const slug = `gw-${uniqueSuffix()}`;

  beforeAll(async () => {
    graph = await startTestSupergraph();
    orgId = `org-${uniqueSuffix()}`;
    token = await graph.issuer.mint({ sub: `user-${uniqueSuffix()}`, email: "owner@example.test", name: "Owner", orgId, roles: ["tenant:owner"] });
    const created = await graph.graphql(`mutation { createTenant(name: "Gateway Lab", slug: "${slug}") { id } }`, {
      token,
      headers: { "x-request-id": `create-${slug}` },
    });
    expect(created.errors).toBeUndefined();
    const stack = await graph.graphql(
      'mutation { createStack(name: "media", stackKitId: "media-center", nodes: [{ hostname: "nas", address: "10.0.0.5" }]) { id } }',
      { token },
    );
    expect(stack.errors).toBeUndefined();
  });
  afterAll(() => graph?.stop());

  it("answers one query across tenant, billing, stack, stackkit and identity", async () => {
    const { status, data, errors } = await graph.graphql(CROSS_SUBGRAPH, { token });
    expect(errors).toBeUndefined();
    expect(status).toBe(200);
    expect(data).toEqual({
      myTenant: {
        name: "Gateway Lab",
        slug,
        plan: { name: "Free" },
        instance: { name: "test-instance" },
        stacks: [{ name: "media", nodes: [{ hostname: "nas" }], stackKit: { name: "Media Center", tier: "FREE", entitled: true } }],
      },
      me: { email: "owner@example.test", tenant: { slug } },
    });
  });

  it("answers fields of the tenant a mutation has just created (its context did not know it yet)", async () => {
    const newcomer = await graph.issuer.mint({ sub: `n-${uniqueSuffix()}`, orgId: `org-${uniqueSuffix()}`, roles: ["tenant:owner"] });
    const { data, errors } = await graph.graphql(`mutation { createTenant(name: "Fresh", slug: "fresh-${uniqueSuffix()}") { name plan { tier } subscription { status } stacks { id } instance { name } } }`, { token: newcomer });
    expect(errors).toBeUndefined();
    expect(data.createTenant).toMatchObject({ name: "Fresh", plan: { tier: "FREE" }, subscription: null, instance: { name: "test-instance" } });
  });

  it("passes the request id through to the subgraphs and back to the client", async () => {
    const [tenant] = await graph.subgraphs.tenant.runtime.db.select().from(tables.tenants).where(eq(tables.tenants.slug, slug));
    const audit = await graph.subgraphs.tenant.runtime.db.select().from(tables.auditLog).where(eq(tables.auditLog.tenantId, tenant!.id));
    expect(audit.find((entry) => entry.action === "tenant.create")?.requestId).toBe(`create-${slug}`);
    const response = await graph.graphql("{ plans { tier } }", { headers: { "x-request-id": "trace-me-42" } });
    expect(response.headers.get("x-request-id")).toBe("trace-me-42");
    const generated = await graph.graphql("{ plans { tier } }");
    expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("serves the public catalog and plans to anonymous callers, and nothing else", async () => {
    const publicData = await graph.graphql("{ stackKits { id entitled } plans { tier } }");
    expect(publicData.errors).toBeUndefined();
    expect(publicData.data.plans).toHaveLength(3);
    const privateData = await graph.graphql("{ myTenant { name } }");
    expect(privateData.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(privateData.data?.myTenant ?? null).toBeNull();
  });

  it("marks catalog answers reusable for a minute, per caller (entitled depends on the plan), and others not at all", async () => {
    const catalog = await graph.graphql("{ stackKits { id entitled } }");
    expect(catalog.headers.get("cache-control")).toBe("max-age=60, private");
    const mixed = await graph.graphql("{ stackKits { id } plans { tier } }");
    expect(mixed.headers.get("cache-control")).toBe("no-store");
  });

  it("lets anonymous callers reach only the public catalog and plans: every other root field is UNAUTHENTICATED", async () => {
    const publicFields = ["{ stackKits { id } }", '{ stackKit(id: "base-homelab") { id } }', "{ plans { tier } }"];
    for (const query of publicFields) expect((await graph.graphql(query)).errors, query).toBeUndefined();
    const id = "00000000-0000-4000-8000-000000000000";
    const privateFields = [
      "{ myTenant { id } }", "{ instances { id } }", "{ auditLog { id } }", "{ me { id } }", "{ stacks { id } }",
      `{ stack(id: "${id}") { id } }`, `{ job(id: "${id}") { id } }`, "{ simulations { id } }", `{ simulation(id: "${id}") { id } }`,
      'mutation { createTenant(name: "x") { id } }', `mutation { setFeatureFlag(tenantId: "${id}", key: "k-k", enabled: true) { key } }`,
      "mutation { launchHomelab { token } }", 'mutation { createStack(name: "x", stackKitId: "base-homelab", nodes: [{ hostname: "h", address: "10.0.0.1" }]) { id } }',
      `mutation { deployStack(id: "${id}") { id } }`, `mutation { cancelJob(id: "${id}") { id } }`, `mutation { deleteStack(id: "${id}") }`,
      'mutation { createSimulation(name: "x", nodeCount: 1) { id } }', `mutation { startSimulation(id: "${id}") { id } }`,
      `mutation { stopSimulation(id: "${id}") { id } }`, `mutation { deleteSimulation(id: "${id}") }`,
      'mutation { requestStackKitDownload(id: "base-homelab") { url } }', "mutation { startCheckout(tier: PRO) { url } }", "mutation { openBillingPortal { url } }",
    ];
    for (const query of privateFields) {
      const response = await graph.graphql(query);
      expect(response.errors?.[0]?.extensions?.code, query).toBe("UNAUTHENTICATED");
      expect(Object.values(response.data ?? {}).every((value) => value === null), query).toBe(true);
    }
  });

  it("ignores tenant headers a client makes up", async () => {
    const { data, errors } = await graph.graphql("{ myTenant { name } }", {
      headers: { "x-tenant-id": "anything", "x-user-id": "someone", "x-kombify-context": "forged.token.here" },
    });
    expect(errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(data?.myTenant ?? null).toBeNull();
  });

  it("rejects bad tokens with 401 UNAUTHENTICATED and a clear message, never a 500", async () => {
    const now = Math.floor(Date.now() / 1000);
    const stranger = await generateKeyPair("RS256");
    const { publicKey } = await generateKeyPair("RS256", { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const [header, payload, signature] = token.split(".");
    const tamperedClaims = { ...JSON.parse(Buffer.from(payload!, "base64url").toString()), sub: "someone-else" };
    const cases: Record<string, string> = {
      expired: await graph.issuer.mint({ sub: "u", orgId, expiresIn: now - 120 }),
      "not yet valid": await graph.issuer.mint({ sub: "u", orgId, notBefore: now + 3600, expiresIn: now + 7200 }),
      "wrong issuer": await graph.issuer.mint({ sub: "u", orgId, issuer: "https://evil.example" }),
      "wrong audience": await graph.issuer.mint({ sub: "u", orgId, audience: "another-project" }),
      "unknown key": await new SignJWT({}).setProtectedHeader({ alg: "RS256", kid: "unknown" }).setSubject("u").setIssuer(graph.issuer.issuer).setAudience("kombify-test-project").setExpirationTime("1h").sign(stranger.privateKey),
      "alg none": `${Buffer.from(JSON.stringify({ alg: "none" })).toString("base64url")}.${payload}.`,
      "HS256 with the public key": await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject("u").setIssuer(graph.issuer.issuer).setAudience("kombify-test-project").setExpirationTime("1h").sign(new TextEncoder().encode(JSON.stringify(publicJwk))),
      tampered: `${header}.${Buffer.from(JSON.stringify(tamperedClaims)).toString("base64url")}.${signature}`,
      garbage: "not-a-jwt",
    };
    for (const [name, bad] of Object.entries(cases)) {
      const response = await graph.graphql("{ plans { tier } }", { token: bad });
      expect(response.status, name).toBe(401);
      expect(response.errors?.[0]?.extensions?.code, name).toBe("UNAUTHENTICATED");
      expect(response.errors?.[0]?.message, name).toMatch(/access token/);
      expect(response.data, name).toBeUndefined();
    }
    const basic = await graph.graphql("{ plans { tier } }", { headers: { authorization: "Basic dXNlcjpwYXNz" } });
    expect(basic.status).toBe(401);
  });

  it("refuses an operation of more than 20,000 tokens before building it: GRAPHQL_PARSE_FAILED", async () => {
    const response = await graph.graphql(`{ plans { ${"tier ".repeat(20_000)} } }`);
    expect(response.status).toBe(400);
    expect(response.errors?.[0]).toMatchObject({ message: expect.stringContaining("tokens"), extensions: { code: "GRAPHQL_PARSE_FAILED" } });
  });

  it("serves automatic persisted queries: an unknown hash asks for the query, which is then served by hash", async () => {
    const query = "{ plans { tier } }";
    const persistedQuery = { version: 1, sha256Hash: createHash("sha256").update(query).digest("hex") };
    const send = async (body: Record<string, unknown>) =>
      (await (await fetch(`${graph.url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })).json()) as {
        data?: { plans: unknown[] };
        errors?: { extensions?: { code?: string } }[];
      };
    expect((await send({ extensions: { persistedQuery } })).errors?.[0]?.extensions?.code).toBe("PERSISTED_QUERY_NOT_FOUND");
    expect((await send({ query, extensions: { persistedQuery } })).data?.plans).toHaveLength(3);
    expect((await send({ extensions: { persistedQuery } })).data?.plans).toHaveLength(3);
  });

  it("answers malformed requests with coded errors", async () => {
    const response = await fetch(`${graph.url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: "{" });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ errors: [{ message: "The request body is not valid JSON.", extensions: { code: "BAD_USER_INPUT" } }] });
    const invalid = await graph.graphql("{ noSuchField }");
    expect(invalid.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
  });

  it("gives partial data with UNAVAILABLE when a subgraph is down, and reports not ready", async () => {
    expect((await fetch(`${graph.url}/ready`)).status).toBe(200);
    await graph.subgraphs.billing.stop();
    const { status, data, errors } = await graph.graphql("{ stackKits { id } myTenant { name subscription { status } } }", { token });
    expect(status).toBe(200);
    expect(data.stackKits.length).toBeGreaterThan(0);
    expect(data.myTenant).toEqual({ name: "Gateway Lab", subscription: null });
    expect(errors?.[0]).toMatchObject({ extensions: { code: "UNAVAILABLE" } });
    expect(errors?.[0]?.message).toContain("billing");
    const ready = await fetch(`${graph.url}/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ ready: false, subgraphs: { billing: false, stack: true } });
    expect((await fetch(`${graph.url}/health`)).status).toBe(200);
  });
});
