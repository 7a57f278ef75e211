import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq, like } from "drizzle-orm";
import { ANONYMOUS, Role, type SignedInCaller } from "@kombify/service-core/auth";
import { FEATURE_FLAGS_COLLECTION } from "@kombify/homelab-store";
import { TENANT_CONTEXT_HEADER } from "@kombify/service-core/tenant-context";
import type { ContextMetrics } from "@kombify/service-core/server";
import { tables } from "@kombify/testkit";
import { tenantSubgraph } from "@kombify/subgraph-tenant";
import { createTestTenant, startTestSubgraph, uniqueSuffix, type TestSubgraph, type TestTenant } from "@kombify/testkit";

function newcomer(orgId = `org-${uniqueSuffix()}`): SignedInCaller {
  return { kind: "user", userId: `user-${uniqueSuffix()}`, email: "new@example.test", name: "New", orgId, orgName: null, roles: [], tenant: null };
}

describe("tenant subgraph", () => {
  let subgraph: TestSubgraph;
  let acme: TestTenant;
  let other: TestTenant;

  beforeAll(async () => {
    subgraph = await startTestSubgraph(tenantSubgraph);
    acme = await createTestTenant(subgraph.runtime, { plan: "PRO" });
    other = await createTestTenant(subgraph.runtime);
  });
  afterAll(() => subgraph?.stop());

  it("creates a tenant for the caller's organisation, with its PocketBase namespace and an audit entry", async () => {
    const caller = newcomer();
    const slug = `lab-${uniqueSuffix()}`;
    const { data, errors } = await subgraph.query(
      `mutation($slug: String) { createTenant(name: "  Bob's Lab ", slug: $slug) { id slug name zitadelOrgId instance { name tenantCount } } }`,
      { caller, variables: { slug } },
    );
    expect(errors).toBeUndefined();
    expect(data.createTenant).toMatchObject({ slug, name: "Bob's Lab", zitadelOrgId: caller.orgId, instance: { name: "test-instance" } });
    // How many other tenants share the instance is for platform admins only.
    expect(data.createTenant.instance.tenantCount).toBeNull();

    const pb = await subgraph.pocketbase.forInstance(subgraph.pocketbaseUrl);
    const suffix = slug.replace(/-/g, "_");
    for (const prefix of ["users", "stacks", "nodes", "jobs"]) {
      await expect(pb.collections.getOne(`${prefix}_${suffix}`)).resolves.toMatchObject({ name: `${prefix}_${suffix}` });
    }
    const flags = await pb.collection(FEATURE_FLAGS_COLLECTION).getFullList({ filter: pb.filter("namespace = {:ns}", { ns: `users_${suffix}` }) });
    expect(flags.map((flag) => flag.key)).toContain("simulations");

    const audit = await subgraph.runtime.db.select().from(tables.auditLog).where(eq(tables.auditLog.tenantId, data.createTenant.id));
    expect(audit).toEqual([expect.objectContaining({ action: "tenant.create", actorUserId: caller.userId })]);
  });

  it("derives a valid slug from the name when none is given", async () => {
    const { data, errors } = await subgraph.query(`mutation { createTenant(name: "Été Homelab ${uniqueSuffix()}") { slug } }`, { caller: newcomer() });
    expect(errors).toBeUndefined();
    expect(data.createTenant.slug).toMatch(/^ete-homelab-[a-f0-9]+$/);
  });

  it("refuses a second tenant, a taken slug, bad or reserved slugs, and anonymous callers", async () => {
    const caller = newcomer();
    const slug = `dup-${uniqueSuffix()}`;
    await subgraph.query(`mutation { createTenant(name: "First", slug: "${slug}") { id } }`, { caller });
    const again = await subgraph.query(`mutation { createTenant(name: "Second") { id } }`, { caller });
    expect(again.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    const taken = await subgraph.query(`mutation { createTenant(name: "Other", slug: "${slug}") { id } }`, { caller: newcomer() });
    expect(taken.errors?.[0]).toMatchObject({ extensions: { code: "CONFLICT" } });
    expect(taken.errors?.[0]?.message).toContain("slug");
    for (const bad of ["Upper", "a", "users_x", "x--y", "-lead", "admin", "a".repeat(41)]) {
      const result = await subgraph.query(`mutation($s: String) { createTenant(name: "Bad", slug: $s) { id } }`, { caller: newcomer(), variables: { s: bad } });
      expect(result.errors?.[0]?.extensions, bad).toMatchObject({ code: "BAD_USER_INPUT", field: "slug" });
    }
    const anonymous = await subgraph.query(`mutation { createTenant(name: "Anon") { id } }`);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("answers myTenant with the caller's own tenant and its plan's flags", async () => {
    const { data } = await subgraph.query("{ myTenant { id slug featureFlags { key enabled source } } }", { caller: acme.member });
    expect(data.myTenant).toMatchObject({ id: acme.tenant.id, slug: acme.tenant.slug });
    expect(data.myTenant.featureFlags).toContainEqual({ key: "custom-domains", enabled: true, source: "PLAN" });
    const none = await subgraph.query("{ myTenant { id } }", { caller: newcomer() });
    expect(none.data.myTenant).toBeNull();
  });

  it("lets only platform admins list instances and override flags, and syncs overrides to PocketBase", async () => {
    const forbidden = await subgraph.query("{ instances { name } }", { caller: acme.as([Role.TENANT_OWNER]) });
    expect(forbidden.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const admin = acme.as([Role.PLATFORM_ADMIN], `admin-${uniqueSuffix()}`);
    const listed = await subgraph.query("{ instances { name maxTenants deploymentMode healthy } }", { caller: admin });
    expect(listed.data.instances).toContainEqual({ name: "test-instance", maxTenants: 10000, deploymentMode: "SHARED", healthy: true });

    const mutation = `mutation($t: ID!) { setFeatureFlag(tenantId: $t, key: "priority-support", enabled: true) { key enabled source } }`;
    const denied = await subgraph.query(mutation, { caller: other.as([Role.TENANT_OWNER]), variables: { t: other.tenant.id } });
    expect(denied.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const set = await subgraph.query(mutation, { caller: admin, variables: { t: other.tenant.id } });
    expect(set.data.setFeatureFlag).toEqual({ key: "priority-support", enabled: true, source: "OVERRIDE" });
    const pb = await subgraph.pocketbase.forInstance(subgraph.pocketbaseUrl);
    const synced = await pb.collection(FEATURE_FLAGS_COLLECTION).getFirstListItem(
      pb.filter("namespace = {:ns} && key = 'priority-support'", { ns: `users_${other.tenant.slug.replace(/-/g, "_")}` }),
    );
    expect(synced.enabled).toBe(true);
    const unknown = await subgraph.query(`mutation { setFeatureFlag(tenantId: "00000000-0000-0000-0000-000000000000", key: "x-y", enabled: true) { key } }`, { caller: admin });
    expect(unknown.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    const badKey = await subgraph.query(`mutation($t: ID!) { setFeatureFlag(tenantId: $t, key: "Bad Key", enabled: true) { key } }`, { caller: admin, variables: { t: other.tenant.id } });
    expect(badKey.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "key" });
  });

  it("shows the audit log to owners and admins of the tenant only", async () => {
    const member = await subgraph.query("{ auditLog { action } }", { caller: other.member });
    expect(member.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const owner = await subgraph.query("{ auditLog(first: 10) { action target actorUserId requestId } }", { caller: other.as([Role.TENANT_ADMIN]) });
    expect(owner.errors).toBeUndefined();
    expect(owner.data.auditLog[0]).toMatchObject({ action: "feature-flag.set", target: `tenant:${other.tenant.id}` });
    expect(owner.data.auditLog.every((entry: { target: string }) => !entry.target?.includes(acme.tenant.id))).toBe(true);
    const tooMany = await subgraph.query("{ auditLog(first: 100000) { action } }", { caller: other.as([Role.TENANT_OWNER]) });
    expect(tooMany.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "first" });
  });

  it("resolves Tenant references only for the caller's own tenant", async () => {
    const query = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Tenant { id slug } } }';
    const own = await subgraph.query(query, { caller: acme.member, variables: { r: [{ __typename: "Tenant", id: acme.tenant.id }] } });
    expect(own.data._entities).toEqual([{ id: acme.tenant.id, slug: acme.tenant.slug }]);
    const foreign = await subgraph.query(query, { caller: acme.member, variables: { r: [{ __typename: "Tenant", id: other.tenant.id }] } });
    expect(foreign.data._entities).toEqual([null]);
  });

  it("answers _service, introspection and _entities only to callers with a signed context, anonymous ones included", async () => {
    const probes: Record<string, string> = {
      _service: "{ _service { sdl } }",
      __schema: "{ __schema { queryType { name } types { name } } }",
      __type: '{ __type(name: "StackInstance") { fields { name } } }',
      _entities: `query { _entities(representations: [{ __typename: "Tenant", id: "${acme.tenant.id}" }]) { ... on Tenant { id slug } } }`,
      "_service behind an alias in a fragment": "query { ...Sdl } fragment Sdl on Query { schema: _service { sdl } }",
    };
    const refusedBefore = (await metrics()).refusedDirectCalls;
    for (const [name, query] of Object.entries(probes)) {
      const direct = await subgraph.query(query);
      expect(direct.status, name).toBe(403);
      expect(direct.data, name).toBeUndefined();
      expect(direct.errors?.[0]?.extensions?.code, name).toBe("FORBIDDEN");
      expect(direct.errors?.[0]?.message, name).toContain("only through the gateway");
      const throughGateway = await subgraph.query(query, { caller: ANONYMOUS });
      expect(throughGateway.status, name).toBe(200);
      expect(throughGateway.errors, name).toBeUndefined();
    }
    expect((await metrics()).refusedDirectCalls - refusedBefore).toBe(Object.keys(probes).length);
    const typename = await subgraph.query("{ __typename }");
    expect(typename).toMatchObject({ status: 200, data: { __typename: "Query" } });
  });

  it("resolves a StackInstance entity for platform admins only, and shows tenantCount to them alone", async () => {
    const owner = acme.as([Role.TENANT_OWNER]);
    const mine = await subgraph.query("{ myTenant { instance { id name region tenantCount } } }", { caller: owner });
    expect(mine.errors).toBeUndefined();
    expect(mine.data.myTenant.instance).toMatchObject({ name: "test-instance", region: "local", tenantCount: null });
    const query = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on StackInstance { name region tenantCount } } }';
    const variables = { r: [{ __typename: "StackInstance", id: mine.data.myTenant.instance.id }] };
    const direct = await subgraph.query(query, { variables });
    expect(direct.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    for (const caller of [ANONYMOUS, owner, acme.member]) {
      const refused = await subgraph.query(query, { caller, variables });
      expect(refused.data._entities, JSON.stringify(caller)).toEqual([null]);
    }
    const admin = acme.as([Role.PLATFORM_ADMIN], `admin-${uniqueSuffix()}`);
    const resolved = await subgraph.query(query, { caller: admin, variables });
    expect(resolved.data._entities[0]).toMatchObject({ name: "test-instance", region: "local" });
    expect(resolved.data._entities[0].tenantCount).toBeGreaterThanOrEqual(2);
    const listed = await subgraph.query("{ instances { name tenantCount } }", { caller: admin });
    expect(listed.data.instances.find((instance: { name: string }) => instance.name === "test-instance").tenantCount).toBeGreaterThanOrEqual(2);
  });

  it("counts 60 garbage contexts from one source in /metrics but audits at most one of them that minute", async () => {
    const before = await metrics();
    const prefix = `garbage-${uniqueSuffix()}`;
    for (let i = 0; i < 60; i++) {
      const response = await subgraph.query("{ __typename }", { headers: { [TENANT_CONTEXT_HEADER]: `garbage.${i}.x`, "x-request-id": `${prefix}-${i}` } });
      expect(response.data).toEqual({ __typename: "Query" });
    }
    const after = await metrics();
    expect(after.rejectedContexts - before.rejectedContexts).toBe(60);
    expect(after.auditedRejectedContexts - before.auditedRejectedContexts).toBeLessThanOrEqual(1);
    const rows = await subgraph.runtime.db
      .select()
      .from(tables.auditLog)
      .where(and(eq(tables.auditLog.action, "context.rejected"), like(tables.auditLog.requestId, `${prefix}-%`)));
    // No test before this one sent this subgraph a bad context, so the first of the 60 is the one audited.
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ requestId: `${prefix}-0`, target: "subgraph:tenant", details: { remoteAddress: expect.stringContaining("127.0.0.1") } });
  });

  async function metrics(): Promise<ContextMetrics> {
    return (await (await fetch(`${subgraph.url}/metrics.json`)).json()) as ContextMetrics;
  }
});
