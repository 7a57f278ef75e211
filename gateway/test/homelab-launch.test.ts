import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import PocketBase from "pocketbase";
import { namespaceCollections } from "@kombify/homelab-store";
import { tables } from "@kombify/testkit";
import { postGraphQL, startTestGateway, startTestSupergraph, uniqueSuffix, type TestSupergraph } from "@kombify/testkit";

const LAUNCH = "mutation { launchHomelab { token redirectUrl expiresAt user { id email tenant { id slug name } } } }";

describe("launchHomelab: the SSO exchange into a PocketBase namespace", () => {
  let graph: TestSupergraph;
  let pocketbaseUrl: string;

  beforeAll(async () => {
    graph = await startTestSupergraph();
    pocketbaseUrl = graph.subgraphs.identity.pocketbaseUrl;
  });
  afterAll(() => graph?.stop());

  const asUser = (token: string) => {
    const pb = new PocketBase(pocketbaseUrl);
    pb.autoCancellation(false);
    pb.authStore.save(token);
    return pb;
  };

  it("creates the tenant and the namespace user on first launch, and returns a working token", async () => {
    const orgId = `org-${uniqueSuffix()}`;
    const sub = `user-${uniqueSuffix()}`;
    const token = await graph.issuer.mint({ sub, email: `${sub}@example.test`, name: "Lena", orgId, orgName: "Lena's Lab", roles: ["tenant:owner"] });
    const { data, errors } = await graph.graphql(LAUNCH, { token });
    expect(errors).toBeUndefined();
    const launch = data.launchHomelab;
    expect(launch.user).toMatchObject({ id: sub, email: `${sub}@example.test`, tenant: { name: "Lena's Lab" } });
    expect(launch.user.tenant.slug).toMatch(/^lena-s-lab/);
    expect(launch.redirectUrl).toBe(`${pocketbaseUrl}/?tenant=${launch.user.tenant.slug}`);
    const lifetime = new Date(launch.expiresAt).getTime() - Date.now();
    expect(lifetime).toBeGreaterThan(3500_000);
    expect(lifetime).toBeLessThanOrEqual(3600_000);

    const names = namespaceCollections(launch.user.tenant.slug);
    const pb = asUser(launch.token);
    const self = await pb.collection(names.users).getFullList();
    expect(self).toHaveLength(1);
    expect(self[0]).toMatchObject({ zitadel_sub: sub });
    await expect(pb.collection(names.stacks).getFullList()).resolves.toEqual([]);

    const again = await graph.graphql(LAUNCH, { token });
    expect(again.data.launchHomelab.user.tenant.id).toBe(launch.user.tenant.id);
    const db = graph.subgraphs.identity.runtime.db;
    const audit = await db.select().from(tables.auditLog).where(eq(tables.auditLog.tenantId, launch.user.tenant.id));
    expect(audit.map((entry) => entry.action).sort()).toEqual(["homelab.launch", "homelab.launch", "tenant.create"]);
  });

  it("gives a token that cannot list or read another tenant's collections on PocketBase itself", async () => {
    const launchFor = async () => {
      const token = await graph.issuer.mint({ sub: `user-${uniqueSuffix()}`, email: `${uniqueSuffix()}@example.test`, orgId: `org-${uniqueSuffix()}`, roles: [] });
      return (await graph.graphql(LAUNCH, { token })).data.launchHomelab;
    };
    const a = await launchFor();
    const b = await launchFor();
    const tokenB = await graph.issuer.mint({ sub: b.user.id, orgId: "unused", roles: [] });
    const bStack = await graph.graphql(
      'mutation { createStack(name: "b-stack", stackKitId: "base-homelab", nodes: [{ hostname: "n", address: "10.1.1.1" }]) { id } }',
      { token: await graph.issuer.mint({ sub: b.user.id, orgId: (await graph.subgraphs.tenant.runtime.db.select().from(tables.tenants).where(eq(tables.tenants.id, b.user.tenant.id)))[0]!.zitadelOrgId }) },
    );
    expect(bStack.errors).toBeUndefined();
    expect(tokenB).toBeTruthy();

    const pbA = asUser(a.token);
    const bNames = namespaceCollections(b.user.tenant.slug);
    for (const collection of [bNames.users, bNames.stacks, bNames.nodes, bNames.jobs]) {
      await expect(pbA.collection(collection).getFullList(), collection).resolves.toEqual([]);
    }
    await expect(pbA.collection(bNames.stacks).getOne(bStack.data.createStack.id)).rejects.toMatchObject({ status: 404 });
    await expect(pbA.collection(bNames.users).getOne(b.user.id)).rejects.toMatchObject({ status: 404 });
    await expect(pbA.collections.getFullList()).rejects.toMatchObject({ status: 403 });
    await expect(pbA.collection("_sso_mappings").getFullList()).rejects.toMatchObject({ status: 403 });
    await expect(pbA.collection(bNames.stacks).create({ name: "intruder", stack_kit_id: "x", status: "DRAFT" })).rejects.toMatchObject({ status: 403 });
  });

  it("makes exactly one tenant and one user for twenty concurrent first launches of one organisation", async () => {
    const orgId = `org-${uniqueSuffix()}`;
    const sub = `user-${uniqueSuffix()}`;
    const token = await graph.issuer.mint({ sub, email: `${sub}@example.test`, orgId, orgName: "Crowd", roles: ["tenant:owner"] });
    const launches = await Promise.all(Array.from({ length: 20 }, () => graph.graphql(LAUNCH, { token })));
    for (const launch of launches) expect(launch.errors).toBeUndefined();
    const tenantIds = new Set(launches.map((launch) => launch.data.launchHomelab.user.tenant.id));
    expect(tenantIds.size).toBe(1);
    const db = graph.subgraphs.identity.runtime.db;
    expect(await db.select().from(tables.tenants).where(eq(tables.tenants.zitadelOrgId, orgId))).toHaveLength(1);
    const slug = launches[0]!.data.launchHomelab.user.tenant.slug;
    const superuser = await graph.subgraphs.identity.pocketbase.forInstance(pocketbaseUrl);
    expect(await superuser.collection(namespaceCollections(slug).users).getFullList()).toHaveLength(1);
    for (const launch of launches) {
      const records = await asUser(launch.data.launchHomelab.token).collection(namespaceCollections(slug).users).getFullList();
      expect(records.map((record) => record.zitadel_sub)).toEqual([sub]);
    }
  });

  it("makes no tenant for an operation that does not run launchHomelab: skipped, or refused before it runs", async () => {
    const tenantsOf = async (orgId: string) => graph.subgraphs.tenant.runtime.db.select().from(tables.tenants).where(eq(tables.tenants.zitadelOrgId, orgId));
    const skippedOrg = `org-${uniqueSuffix()}`;
    const skipped = await graph.issuer.mint({ sub: `user-${uniqueSuffix()}`, orgId: skippedOrg, roles: ["tenant:owner"] });
    const answer = await graph.graphql("mutation($skip: Boolean!) { launchHomelab @skip(if: $skip) { token } }", { token: skipped, variables: { skip: true } });
    expect(answer.errors).toBeUndefined();
    expect(await tenantsOf(skippedOrg)).toEqual([]);
    const refusedOrg = `org-${uniqueSuffix()}`;
    const refused = await graph.issuer.mint({ sub: `user-${uniqueSuffix()}`, orgId: refusedOrg, roles: ["tenant:owner"] });
    const nul = await graph.graphql("mutation($name: String!) { launchHomelab { token } createTenant(name: $name) { id } }", { token: refused, variables: { name: "a\u0000" } });
    expect(nul.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(await tenantsOf(refusedOrg)).toEqual([]);
  });

  it("answers 503 UNAVAILABLE when the tenant service cannot be reached for a first launch", async () => {
    const cutOff = await startTestGateway(graph.issuer, graph.subgraphs, { SUBGRAPH_TENANT_URL: "http://127.0.0.1:9/graphql" });
    try {
      const token = await graph.issuer.mint({ sub: `user-${uniqueSuffix()}`, orgId: `org-${uniqueSuffix()}`, roles: ["tenant:owner"] });
      const response = await postGraphQL<unknown>(`${cutOff.url}/graphql`, { query: LAUNCH }, { authorization: `Bearer ${token}` });
      expect(response.status).toBe(503);
      expect(response.errors?.[0]?.extensions?.code).toBe("UNAVAILABLE");
    } finally {
      await cutOff.stop();
    }
  });

  it("refuses anonymous callers and tokens without an organisation", async () => {
    expect((await graph.graphql(LAUNCH)).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const orgless = await graph.issuer.mint({ sub: `user-${uniqueSuffix()}` });
    expect((await graph.graphql(LAUNCH, { token: orgless })).errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });
});
