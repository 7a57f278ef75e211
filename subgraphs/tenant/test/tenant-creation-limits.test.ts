import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestSupergraph, TEST_PLATFORM_ORG, uniqueSuffix, type TestSupergraph } from "@kombify/testkit";

/**
 * Issue 15's lock-out: throwaway organisations signing up from one address, or a flood from many, are refused
 * RATE_LIMITED with a retry hint (counted in PostgreSQL, by the address the gateway signs); and only platform admins
 * provision instances or see how instances were made and where they answer.
 */
describe("limits on creating tenants, and instance provisioning for platform admins", () => {
  let graph: TestSupergraph;

  beforeAll(async () => {
    graph = await startTestSupergraph({
      // The test client is the gateway's only peer: as a trusted proxy, its X-Forwarded-For names the client.
      gatewayEnv: { TRUSTED_PROXIES: "127.0.0.1,::1" },
      subgraphEnv: { TENANT_CREATION_PER_ADDRESS: "2", TENANT_CREATION_OVERALL: "5", TENANT_CREATION_WINDOW_SECONDS: "600" },
    });
  });
  afterAll(async () => {
    await graph?.stop();
  });

  const newcomer = () => graph.issuer.mint({ sub: `user-${uniqueSuffix()}`, email: `${uniqueSuffix()}@example.test`, orgId: `org-${uniqueSuffix()}`, orgName: "Throwaway", roles: [] });
  const createTenant = async (address: string) =>
    graph.graphql(`mutation { createTenant(name: "Lab ${uniqueSuffix()}") { id } }`, { token: await newcomer(), headers: { "x-forwarded-for": address } });
  const launch = async (address: string) => graph.graphql("mutation { launchHomelab { token } }", { token: await newcomer(), headers: { "x-forwarded-for": address } });

  it("admits two new tenants per address and five overall in the window, refusing the rest RATE_LIMITED with retryAfter, first launches included", async () => {
    const first = [await createTenant("203.0.113.1"), await createTenant("203.0.113.1")];
    expect(first.map((answer) => answer.errors)).toEqual([undefined, undefined]);
    const third = await createTenant("203.0.113.1");
    expect(third.errors?.[0]?.extensions).toMatchObject({ code: "RATE_LIMITED", retryAfter: expect.any(Number) });
    expect(third.errors![0]!.extensions!.retryAfter as number).toBeGreaterThan(500);
    // A first homelab launch makes a tenant too (the gateway's enrolment), and is counted the same way.
    const launched = await launch("203.0.113.1");
    expect(launched.errors?.[0]?.extensions).toMatchObject({ code: "RATE_LIMITED", retryAfter: expect.any(Number) });

    // Another address has its own two, until the overall five are spent.
    expect((await createTenant("203.0.113.2")).errors).toBeUndefined();
    expect((await createTenant("2001:db8:1:2::7")).errors).toBeUndefined();
    // The same /64 is the same client.
    expect((await createTenant("2001:db8:1:2::8")).errors).toBeUndefined();
    const overall = await createTenant("198.51.100.9");
    expect(overall.errors?.[0]?.extensions).toMatchObject({ code: "RATE_LIMITED", retryAfter: expect.any(Number) });
    expect(overall.errors![0]!.message).toContain("5 new tenants");
  });

  it("refuses provisionInstance and the instances' provisioner and URL to everyone but platform admins, and audits an admin's attempt", async () => {
    const member = await graph.issuer.mint({ sub: `user-${uniqueSuffix()}`, orgId: `org-${uniqueSuffix()}`, roles: ["tenant:owner"] });
    const refused = await graph.graphql('mutation { provisionInstance(region: "eu", mode: SHARED) { id } }', { token: member });
    expect(refused.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const anonymous = await graph.graphql('mutation { provisionInstance(region: "eu", mode: SHARED) { id } }');
    expect(anonymous.errors?.[0]?.extensions?.code).toMatch(/UNAUTHENTICATED|FORBIDDEN/);

    const admin = await graph.issuer.mint({ sub: `ops-${uniqueSuffix()}`, orgId: TEST_PLATFORM_ORG, roles: ["platform:admin"], grantedBy: TEST_PLATFORM_ORG });
    const listed = await graph.graphql("{ instances { name provisioner pocketbaseUrl tenantCount } }", { token: admin });
    expect(listed.errors).toBeUndefined();
    expect(listed.data.instances[0]).toMatchObject({ provisioner: "configured", pocketbaseUrl: expect.stringMatching(/^http:\/\//) });
    // This deployment has no provisioner: the mutation says so, and the attempt is in the audit log.
    const attempt = await graph.graphql('mutation { provisionInstance(region: "eu", mode: SHARED) { id } }', { token: admin });
    expect(attempt.errors?.[0]?.extensions?.code).toBe("UNAVAILABLE");
    const bad = await graph.graphql('mutation { provisionInstance(region: "EU west!", mode: SHARED) { id } }', { token: admin });
    expect(bad.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    const { sql } = graph.subgraphs.tenant.runtime.database;
    const audited = await sql`select action from platform.audit_log where action like 'instance.provision%'`;
    expect(audited.map((row) => row.action)).toEqual(["instance.provision.failed", "instance.provision.failed"]);

    // A member sees where their own tenant lives, but not how it was made or its address. (The window's admissions
    // are spent by the test above: start this one afresh.)
    await sql`delete from tenant.tenant_creation_admissions`;
    const owner = await graph.issuer.mint({ sub: `user-${uniqueSuffix()}`, orgId: `org-${uniqueSuffix()}`, roles: ["tenant:owner"] });
    await graph.graphql('mutation { createTenant(name: "Mine") { id } }', { token: owner, headers: { "x-forwarded-for": "192.0.2.77" } });
    const mine = await graph.graphql("{ myTenant { instance { name provisioner pocketbaseUrl } } }", { token: owner });
    expect(mine.data?.myTenant?.instance).toMatchObject({ provisioner: null, pocketbaseUrl: null });
  });
});
