import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SignedInCaller } from "@kombify/service-core/auth";
import { tenantSubgraph } from "@kombify/subgraph-tenant";
import { startTestSubgraph, uniqueSuffix, type TestSubgraph } from "@kombify/testkit";

const newcomer = (): SignedInCaller => {
  const suffix = uniqueSuffix();
  return { kind: "user", userId: `user-${suffix}`, email: `${suffix}@example.test`, name: "New", orgId: `org-${suffix}`, orgName: null, roles: [], tenant: null };
};

/** An instance never takes more tenants than its maxTenants, however many organisations sign up at once. */
describe("tenant placement under concurrent sign-ups", () => {
  let subgraph: TestSubgraph;
  let replica: TestSubgraph;
  // This file's database has only the instance these subgraphs register: five places.
  const env = { STACK_INSTANCE_NAME: `small-${uniqueSuffix()}`, STACK_INSTANCE_MAX_TENANTS: "5" };

  beforeAll(async () => {
    subgraph = await startTestSubgraph(tenantSubgraph, { env });
    replica = await startTestSubgraph(tenantSubgraph, { env });
  });
  afterAll(async () => {
    await subgraph?.stop();
    await replica?.stop();
  });

  it("places exactly five of twenty concurrent new tenants on a five-place instance and refuses the rest UNAVAILABLE", async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? replica : subgraph).query(`mutation { createTenant(name: "Lab ${i}", slug: "place-${i}-${uniqueSuffix()}") { id } }`, { caller: newcomer() }),
      ),
    );
    const outcomes = answers.map((answer) => String(answer.errors?.[0]?.extensions?.code ?? "OK")).sort();
    expect(outcomes).toEqual([...Array(5).fill("OK"), ...Array(15).fill("UNAVAILABLE")].sort());
    const admin: SignedInCaller = { ...newcomer(), roles: ["platform:admin"] };
    const instances = await subgraph.query("{ instances { name maxTenants tenantCount } }", { caller: admin });
    expect(instances.data.instances).toEqual([{ name: env.STACK_INSTANCE_NAME, maxTenants: 5, tenantCount: 5 }]);
  });

  it("refuses a tenant name with a NUL or other control character as BAD_USER_INPUT, even when called directly", async () => {
    const answer = await subgraph.query('mutation($name: String!) { createTenant(name: $name) { id } }', { caller: newcomer(), variables: { name: "bad\u0000name" } });
    expect(answer.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });
});
