import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Catalog, CreateStack, CreateTenant, DeleteStack, KombifyApiError, KombifyClient, MyHomelab } from "@kombify/client";
import { startTestSupergraph, uniqueSuffix, type TestSupergraph } from "@kombify/testkit";

describe("the typed client against the real supergraph", () => {
  let graph: TestSupergraph;
  let client: KombifyClient;

  beforeAll(async () => {
    graph = await startTestSupergraph();
    const orgId = `org-${uniqueSuffix()}`;
    client = new KombifyClient({ url: `${graph.url}/graphql`, token: () => graph.issuer.mint({ sub: `u-${uniqueSuffix()}`, email: "c@example.test", orgId, roles: ["tenant:owner"] }) });
  });
  afterAll(() => graph?.stop());

  it("runs the documented operations with typed results", async () => {
    const catalog = await new KombifyClient({ url: `${graph.url}/graphql` }).request(Catalog);
    expect(catalog.stackKits.find((kit) => kit.id === "media-center")?.tier).toBe("FREE");

    const slug = `client-${uniqueSuffix()}`;
    const { createTenant } = await client.request(CreateTenant, { name: "Client Lab", slug });
    expect(createTenant.slug).toBe(slug);
    const { createStack } = await client.request(CreateStack, { name: "home", stackKitId: "base-homelab", nodes: [{ hostname: "pi", address: "10.0.0.9" }] });
    expect(createStack).toMatchObject({ name: "home", status: "DRAFT", stackKit: { name: "Base Homelab" } });
    const { myTenant } = await client.request(MyHomelab);
    expect(myTenant?.stacks.map((stack) => stack.name)).toEqual(["home"]);
    await expect(client.request(DeleteStack, { id: createStack.id })).resolves.toEqual({ deleteStack: true });
  });

  it("throws KombifyApiError with the code, the field and the request id", async () => {
    const failure = await client.request(CreateStack, { name: "x", stackKitId: "base-homelab", nodes: [] }).catch((error) => error);
    expect(failure).toBeInstanceOf(KombifyApiError);
    expect(failure.code).toBe("BAD_USER_INPUT");
    expect(failure.errors[0].extensions.field).toBe("nodes");
    expect(failure.requestId).toMatch(/.+/);
    const anonymous = await new KombifyClient({ url: `${graph.url}/graphql` }).request(MyHomelab).catch((error) => error);
    expect(anonymous.code).toBe("UNAUTHENTICATED");
  });
});
