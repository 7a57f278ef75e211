import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { Role, tables } from "@kombify/service-core";
import { createIdentitySubgraph } from "@kombify/subgraph-identity";
import { createTestTenant, startTestSubgraph, type TestSubgraph, type TestTenant } from "@kombify/testkit";

describe("identity subgraph", () => {
  let subgraph: TestSubgraph;
  let tenant: TestTenant;

  beforeAll(async () => {
    subgraph = await startTestSubgraph("identity", createIdentitySubgraph);
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

  it("says launchHomelab is not available yet, with a code", async () => {
    const { errors } = await subgraph.query("mutation { launchHomelab { token } }", { caller: tenant.member });
    expect(errors?.[0]?.extensions?.code).toBe("UNAVAILABLE");
  });
});
