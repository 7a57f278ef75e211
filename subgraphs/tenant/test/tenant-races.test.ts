import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SignedInCaller } from "@kombify/service-core/auth";
import { tenantSubgraph, TenantDirectory } from "@kombify/subgraph-tenant";
import { startTestSubgraph, testNamespaces, uniqueSuffix, type TestSubgraph } from "@kombify/testkit";

const newcomer = (): SignedInCaller => {
  const suffix = uniqueSuffix();
  return { kind: "user", userId: `user-${suffix}`, email: `${suffix}@example.test`, name: "New", orgId: `org-${suffix}`, orgName: null, roles: [], tenant: null };
};

/** Organisations racing for one slug end in one tenant and clear CONFLICTs, or in distinct slugs when none was asked for. */
describe("tenant creation races between organisations", () => {
  let subgraph: TestSubgraph;

  beforeAll(async () => {
    subgraph = await startTestSubgraph(tenantSubgraph);
  });
  afterAll(() => subgraph?.stop());

  it("gives one of four organisations asking for the same slug at once its tenant, and the others CONFLICT, never INTERNAL", async () => {
    const slug = `race-${uniqueSuffix()}`;
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => subgraph.query(`mutation { createTenant(name: "Race", slug: "${slug}") { id } }`, { caller: newcomer() })),
    );
    const outcomes = answers.map((answer) => String(answer.errors?.[0]?.extensions?.code ?? "OK")).sort();
    expect(outcomes).toEqual(["CONFLICT", "CONFLICT", "CONFLICT", "OK"]);
  });

  it("gives four organisations of one name launching at once four tenants with distinct slugs", async () => {
    const directory = new TenantDirectory(subgraph.runtime.db, testNamespaces(subgraph.runtime));
    const name = `Same Name ${uniqueSuffix()}`;
    const results = await Promise.all(Array.from({ length: 4 }, () => directory.ensureForOrganisation(`org-${uniqueSuffix()}`, name)));
    expect(results.every((result) => result.created)).toBe(true);
    expect(new Set(results.map((result) => result.tenant.slug)).size).toBe(4);
  });
});
