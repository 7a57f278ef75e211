import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { namespaceCollections, SSO_MAPPINGS_COLLECTION } from "@kombify/homelab-store";
import { Role } from "@kombify/service-core/auth";
import { tables } from "@kombify/testkit";
import { identitySubgraph } from "@kombify/subgraph-identity";
import { createTestTenant, startTestSubgraph, type TestSubgraph, type TestTenant } from "@kombify/testkit";

describe("identity subgraph", () => {
  let subgraph: TestSubgraph;
  let tenant: TestTenant;

  beforeAll(async () => {
    subgraph = await startTestSubgraph(identitySubgraph);
    tenant = await createTestTenant(subgraph.runtime);
  });
  afterAll(() => subgraph?.stop());

  it("answers me from the verified context and caches the user in PostgreSQL", async () => {
    const caller = tenant.as([Role.TENANT_ADMIN]);
    const { data, errors } = await subgraph.query("{ me { id email displayName roles tenant { id } } }", { caller });
    expect(errors).toBeUndefined();
    expect(data.me).toEqual({ id: caller.userId, email: caller.email, displayName: caller.name, roles: ["tenant:admin"], tenant: { id: tenant.tenant.id } });
    const [row] = await subgraph.runtime.db.select().from(tables.users).where(eq(tables.users.id, caller.userId));
    expect(row).toMatchObject({ email: caller.email, tenantId: tenant.tenant.id });
  });

  it("refuses me to anonymous callers and a hand-made X-User-Id header", async () => {
    const anonymous = await subgraph.query("{ me { id } }", { headers: { "x-user-id": "someone", "x-tenant-id": tenant.tenant.id } });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("resolves a User reference for the caller only", async () => {
    const caller = tenant.member;
    await subgraph.query("{ me { id } }", { caller });
    const query = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id email } } }';
    const own = await subgraph.query(query, { caller, variables: { r: [{ __typename: "User", id: caller.userId }] } });
    expect(own.data._entities).toEqual([{ id: caller.userId, email: caller.email }]);
    const other = await subgraph.query(query, { caller: tenant.as([], "someone-else"), variables: { r: [{ __typename: "User", id: caller.userId }] } });
    expect(other.data._entities).toEqual([null]);
  });

  it("launches into the caller's existing tenant: namespace user, SSO mapping and user cache", async () => {
    const caller = tenant.as([Role.TENANT_MEMBER], `launcher-${tenant.tenant.slug}`);
    const { data, errors } = await subgraph.query("mutation { launchHomelab { token redirectUrl expiresAt user { id tenant { id } } } }", { caller });
    expect(errors).toBeUndefined();
    expect(data.launchHomelab.user).toEqual({ id: caller.userId, tenant: { id: tenant.tenant.id } });
    expect(data.launchHomelab.redirectUrl).toContain(`tenant=${tenant.tenant.slug}`);
    const pb = await subgraph.pocketbase.forInstance(subgraph.pocketbaseUrl);
    const users = await pb.collection(namespaceCollections(tenant.tenant.slug).users).getFullList({ filter: pb.filter("zitadel_sub = {:s}", { s: caller.userId }) });
    expect(users).toHaveLength(1);
    const mapping = await pb.collection(SSO_MAPPINGS_COLLECTION).getFirstListItem(pb.filter("zitadel_sub = {:s}", { s: caller.userId }));
    expect(mapping).toMatchObject({ tenant_id: tenant.tenant.id, tenant_slug: tenant.tenant.slug, user_record: users[0]!.id });
    const [cached] = await subgraph.runtime.db.select().from(tables.users).where(eq(tables.users.id, caller.userId));
    expect(cached?.tenantId).toBe(tenant.tenant.id);
  });

  it("launches a second user whose e-mail a colleague's namespace user already has, instead of failing INTERNAL", async () => {
    const first = { ...tenant.as([Role.TENANT_MEMBER], `shared-a-${tenant.tenant.slug}`), email: `shared-${tenant.tenant.slug}@example.test` };
    const second = { ...tenant.as([Role.TENANT_MEMBER], `shared-b-${tenant.tenant.slug}`), email: first.email };
    for (const caller of [first, second]) {
      const { data, errors } = await subgraph.query("mutation { launchHomelab { token user { id } } }", { caller });
      expect(errors).toBeUndefined();
      expect(data.launchHomelab.user.id).toBe(caller.userId);
    }
  });
});
