import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  API_ERROR_CODES,
  CatalogDocument,
  CreateSimulationDocument,
  CreateStackDocument,
  CreateStackOnSimulationDocument,
  CreateTenantDocument,
  DeleteSimulationDocument,
  DeleteStackDocument,
  documentText,
  ErrorCode,
  KombifyApiError,
  KombifyClient,
  MyHomelabDocument,
  SimulationsDocument,
  StartSimulationDocument,
  StopSimulationDocument,
  type KombifyErrorCode,
} from "@kombify/client";
import { ErrorCode as ServiceErrorCode } from "@kombify/service-core/errors";
import { startTestSupergraph, uniqueSuffix, type TestSupergraph } from "@kombify/testkit";

describe("the typed client against the real supergraph", () => {
  let graph: TestSupergraph;
  let client: KombifyClient;
  /** Every body the client posted, to see what went over the wire. */
  const sent: Record<string, unknown>[] = [];
  const recordingFetch: typeof fetch = (input, init) => {
    sent.push(JSON.parse(String(init?.body)));
    return fetch(input, init);
  };

  beforeAll(async () => {
    graph = await startTestSupergraph();
    const orgId = `org-${uniqueSuffix()}`;
    client = new KombifyClient({ url: `${graph.url}/graphql`, fetch: recordingFetch, token: () => graph.issuer.mint({ sub: `u-${uniqueSuffix()}`, email: "c@example.test", orgId, roles: ["tenant:owner"] }) });
  });
  afterAll(() => graph?.stop());

  it("runs the generated operations with typed results, sending registered documents by hash alone", async () => {
    const catalog = await new KombifyClient({ url: `${graph.url}/graphql` }).request(CatalogDocument);
    expect(catalog.stackKits.find((kit) => kit.id === "media-center")?.tier).toBe("FREE");

    const slug = `client-${uniqueSuffix()}`;
    const { createTenant } = await client.request(CreateTenantDocument, { name: "Client Lab", slug });
    expect(createTenant.slug).toBe(slug);
    const { createStack } = await client.request(CreateStackDocument, { name: "home", stackKitId: "base-homelab", nodes: [{ hostname: "pi", address: "10.0.0.9" }] });
    expect(createStack).toMatchObject({ name: "home", status: "DRAFT", stackKit: { name: "Base Homelab" } });
    const { myTenant } = await client.request(MyHomelabDocument);
    expect(myTenant?.stacks.map((stack) => stack.name)).toEqual(["home"]);
    await expect(client.request(DeleteStackDocument, { id: createStack.id })).resolves.toEqual({ deleteStack: true });

    // The gateway knew every hash from the manifest: no request needed its text.
    expect(sent.length).toBeGreaterThanOrEqual(4);
    for (const body of sent) {
      expect(body.query).toBeUndefined();
      expect(body.extensions).toMatchObject({ persistedQuery: { version: 1, sha256Hash: expect.stringMatching(/^[0-9a-f]{64}$/) } });
    }
  });

  it("sends the registered text instead when persisted documents are off", async () => {
    const bodies: Record<string, unknown>[] = [];
    const plain = new KombifyClient({
      url: `${graph.url}/graphql`,
      persistedDocuments: false,
      fetch: (input, init) => {
        bodies.push(JSON.parse(String(init?.body)));
        return fetch(input, init);
      },
    });
    await plain.request(CatalogDocument);
    expect(bodies).toEqual([{ query: documentText(CatalogDocument), variables: {} }]);
  });

  it("throws KombifyApiError with the code, the field and the request id", async () => {
    const failure = await client.request(CreateStackDocument, { name: "x", stackKitId: "base-homelab", nodes: [] }).catch((error) => error);
    expect(failure).toBeInstanceOf(KombifyApiError);
    expect(failure.code).toBe("BAD_USER_INPUT");
    expect(failure.errors[0].extensions.field).toBe("nodes");
    expect(failure.requestId).toMatch(/.+/);
    const badSimulation = await client.request(CreateSimulationDocument, { name: "lab", nodeCount: 0 }).catch((error) => error);
    expect([badSimulation.code, badSimulation.errors[0].extensions.field]).toEqual(["BAD_USER_INPUT", "nodeCount"]);
    await expect(client.request(SimulationsDocument)).resolves.toEqual({ simulations: [] });
    const unknownId = "00000000-0000-4000-8000-000000000000";
    const unknown = await Promise.all([
      client.request(StartSimulationDocument, { id: unknownId }).catch((error) => error),
      client.request(StopSimulationDocument, { id: unknownId }).catch((error) => error),
      client.request(DeleteSimulationDocument, { id: unknownId }).catch((error) => error),
    ]);
    expect(unknown.map((failure) => failure.code)).toEqual(["NOT_FOUND", "NOT_FOUND", "NOT_FOUND"]);
    const badLink = await client.request(CreateStackOnSimulationDocument, { name: "sim", stackKitId: "base-homelab", simulationId: unknownId }).catch((error) => error);
    expect([badLink.code, badLink.errors[0].extensions.field]).toEqual(["BAD_USER_INPUT", "simulationId"]);
    const anonymous = await new KombifyClient({ url: `${graph.url}/graphql` }).request(MyHomelabDocument).catch((error) => error);
    expect(anonymous.code).toBe("UNAUTHENTICATED");
  });

  it("switches on the same codes the services raise: one list, @kombify/error-codes", () => {
    expect(ErrorCode).toBe(ServiceErrorCode);
    const codes: readonly KombifyErrorCode[] = API_ERROR_CODES;
    expect(codes).toEqual(expect.arrayContaining(["UNAUTHENTICATED", "QUOTA_EXCEEDED", "GRAPHQL_VALIDATION_FAILED", "PERSISTED_QUERY_NOT_IN_LIST"]));
  });
});
