import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Catalog,
  CreateSimulation,
  CreateStack,
  CreateStackOnSimulation,
  CreateTenant,
  DeleteSimulation,
  DeleteStack,
  KombifyApiError,
  KombifyClient,
  MyHomelab,
  Simulations,
  StartSimulation,
  StopSimulation,
} from "@kombify/client";
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
    const badSimulation = await client.request(CreateSimulation, { name: "lab", nodeCount: 0 }).catch((error) => error);
    expect([badSimulation.code, badSimulation.errors[0].extensions.field]).toEqual(["BAD_USER_INPUT", "nodeCount"]);
    await expect(client.request(Simulations)).resolves.toEqual({ simulations: [] });
    const unknownId = "00000000-0000-4000-8000-000000000000";
    const unknown = await Promise.all([
      client.request(StartSimulation, { id: unknownId }).catch((error) => error),
      client.request(StopSimulation, { id: unknownId }).catch((error) => error),
      client.request(DeleteSimulation, { id: unknownId }).catch((error) => error),
    ]);
    expect(unknown.map((failure) => failure.code)).toEqual(["NOT_FOUND", "NOT_FOUND", "NOT_FOUND"]);
    const badLink = await client.request(CreateStackOnSimulation, { name: "sim", stackKitId: "base-homelab", simulationId: unknownId }).catch((error) => error);
    expect([badLink.code, badLink.errors[0].extensions.field]).toEqual(["BAD_USER_INPUT", "simulationId"]);
    const anonymous = await new KombifyClient({ url: `${graph.url}/graphql` }).request(MyHomelab).catch((error) => error);
    expect(anonymous.code).toBe("UNAUTHENTICATED");
  });
});
