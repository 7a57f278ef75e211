import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DocumentNode } from "graphql";
import { CatalogDocument, documentText, JobUpdatedDocument } from "@kombify/client";
import { collect, startTestSupergraph, testNamespaces, uniqueSuffix, wsClient, type TestSupergraph } from "@kombify/testkit";
import { TenantDirectory } from "@kombify/subgraph-tenant";
import { PersistedDocuments } from "../src/http/persisted-documents.js";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const hashOf = (document: DocumentNode) => (document as { __meta__?: { hash?: string } }).__meta__!.hash!;
const byHash = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });

interface Answer {
  status: number;
  body: { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
}

/** A POST exactly as given (testkit's graphql() always sends a query). */
async function post(graph: TestSupergraph, body: Record<string, unknown>, token?: string): Promise<Answer> {
  const response = await fetch(`${graph.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Answer["body"] };
}

/** What a graphql-ws operation ends with: its events, or the errors it was refused with. */
async function overSocket(graph: TestSupergraph, payload: { query: string; extensions?: Record<string, unknown>; variables?: Record<string, unknown> }, token?: string) {
  const client = wsClient(`${graph.url}/graphql`, token ? { authorization: `Bearer ${token}` } : {});
  const operation = collect(client, payload.query, payload.variables, payload.extensions);
  const refusal = await operation.done.then(
    () => null,
    (errors: { extensions?: { code?: string } }[]) => errors,
  );
  await client.dispose();
  return { events: operation.events, codes: refusal?.map((error) => error.extensions?.code) ?? null };
}

const CUSTOM = "query Kits { stackKits { id } }";
const UNREGISTERED = "query Plans { plans { tier } }";

describe("the persisted-documents manifest", () => {
  it("refuses to start with an entry that is not the sha256 of its text", () => {
    const dir = mkdtempSync(join(tmpdir(), "kombify-pq-"));
    const file = join(dir, "tampered.json");
    writeFileSync(file, JSON.stringify({ [sha256(CUSTOM)]: `${CUSTOM} ` }));
    expect(() => PersistedDocuments.load({ file, safelist: false })).toThrow(/not the sha256 of its document text/);
    expect(() => PersistedDocuments.load({ file: join(dir, "missing.json"), safelist: false })).toThrow(/PERSISTED_DOCUMENTS_FILE/);
  });
});

describe("persisted documents, safelist off (Apollo's APQ)", () => {
  let graph: TestSupergraph;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "kombify-pq-"));
    const file = join(dir, "persisted-documents.json");
    writeFileSync(file, JSON.stringify({ [sha256(CUSTOM)]: CUSTOM }));
    graph = await startTestSupergraph({ gatewayEnv: { PERSISTED_DOCUMENTS_FILE: file } });
  });
  afterAll(() => graph?.stop());

  it("runs a registered document by its hash alone, over HTTP and over the socket", async () => {
    const http = await post(graph, { extensions: byHash(sha256(CUSTOM)) });
    expect(http.status).toBe(200);
    expect(http.body.data.stackKits.length).toBeGreaterThan(0);
    const socket = await overSocket(graph, { query: "", extensions: byHash(sha256(CUSTOM)) });
    expect(socket.codes).toBeNull();
    expect(socket.events[0]?.data).toEqual(http.body.data);
  });

  it("answers an unknown hash PERSISTED_QUERY_NOT_FOUND, learns it with its text, then runs it by hash", async () => {
    const text = `query Unknown${uniqueSuffix().replace(/\W/g, "")} { plans { name } }`;
    const unknown = await post(graph, { extensions: byHash(sha256(text)) });
    expect(unknown.body.errors?.[0]?.extensions?.code).toBe("PERSISTED_QUERY_NOT_FOUND");
    expect((await overSocket(graph, { query: "", extensions: byHash(sha256(text)) })).codes).toEqual(["PERSISTED_QUERY_NOT_FOUND"]);
    const registering = await post(graph, { query: text, extensions: byHash(sha256(text)) });
    expect(registering.body.errors).toBeUndefined();
    expect((await post(graph, { extensions: byHash(sha256(text)) })).body.data.plans.length).toBeGreaterThan(0);
    expect((await overSocket(graph, { query: "", extensions: byHash(sha256(text)) })).events[0]?.data.plans.length).toBeGreaterThan(0);
  });

  it("still runs plain text, and refuses a hash that is not the text's", async () => {
    expect((await post(graph, { query: UNREGISTERED })).body.data.plans.length).toBeGreaterThan(0);
    const mismatch = await post(graph, { query: UNREGISTERED, extensions: byHash(sha256(CUSTOM)) });
    expect(mismatch.status).toBe(400);
    // Apollo gives this refusal no code; it is the client's mistake, never INTERNAL.
    expect(mismatch.body.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect((await overSocket(graph, { query: UNREGISTERED, extensions: byHash(sha256(CUSTOM)) })).codes).toEqual(["BAD_REQUEST"]);
  });
});

describe("OPERATIONS_SAFELIST=true: only the typed client's registered documents run", () => {
  let graph: TestSupergraph;
  let token: string;

  beforeAll(async () => {
    // The default manifest: the typed client's generated persisted-documents.json.
    graph = await startTestSupergraph({ gatewayEnv: { OPERATIONS_SAFELIST: "true" } });
    const orgId = `org-${uniqueSuffix()}`;
    token = await graph.issuer.mint({ sub: `s-${uniqueSuffix()}`, orgId, roles: ["tenant:owner"] });
    // A tenant for the caller (createTenant is not a registered document), so its subscriptions are its own.
    await new TenantDirectory(graph.subgraphs.tenant.runtime.db, testNamespaces(graph.subgraphs.tenant.runtime)).create({ name: "Safelisted", slug: `safe-${uniqueSuffix()}`, zitadelOrgId: orgId });
  });
  afterAll(() => graph?.stop());

  it("runs a registered document by hash, or by exactly its registered text, over HTTP", async () => {
    const viaHash = await post(graph, { extensions: byHash(hashOf(CatalogDocument)) });
    expect(viaHash.status).toBe(200);
    expect(viaHash.body.data.stackKits.length).toBeGreaterThan(0);
    const viaText = await post(graph, { query: documentText(CatalogDocument) });
    expect(viaText.body).toEqual(viaHash.body);
    const both = await post(graph, { query: documentText(CatalogDocument), extensions: byHash(hashOf(CatalogDocument)) });
    expect(both.body).toEqual(viaHash.body);
  });

  it("refuses anything else over HTTP with 400 PERSISTED_QUERY_NOT_IN_LIST: other text, unknown hashes, APQ registration, GET", async () => {
    const refusals = await Promise.all([
      post(graph, { query: UNREGISTERED }),
      // The registered operation, formatted differently, is another text.
      post(graph, { query: documentText(CatalogDocument).replace(/ /g, "  ") }),
      post(graph, { extensions: byHash(sha256(UNREGISTERED)) }),
      post(graph, { query: UNREGISTERED, extensions: byHash(sha256(UNREGISTERED)) }),
      post(graph, { query: UNREGISTERED, extensions: byHash(hashOf(CatalogDocument)) }),
    ]);
    for (const refusal of refusals) {
      expect(refusal.status).toBe(400);
      expect(refusal.body).toEqual({ errors: [{ message: expect.stringContaining("registered"), extensions: { code: "PERSISTED_QUERY_NOT_IN_LIST" } }] });
    }
    // Nothing was learned from the registration attempt.
    expect((await post(graph, { extensions: byHash(sha256(UNREGISTERED)) })).body.errors?.[0]?.extensions?.code).toBe("PERSISTED_QUERY_NOT_IN_LIST");
    const get = await fetch(`${graph.url}/graphql?query=${encodeURIComponent(UNREGISTERED)}`, { headers: { "apollo-require-preflight": "1" } });
    expect(get.status).toBe(400);
    expect(((await get.json()) as Answer["body"]).errors?.[0]?.extensions?.code).toBe("PERSISTED_QUERY_NOT_IN_LIST");
    const getRegistered = await fetch(`${graph.url}/graphql?extensions=${encodeURIComponent(JSON.stringify(byHash(hashOf(CatalogDocument))))}`, { headers: { "apollo-require-preflight": "1" } });
    expect(((await getRegistered.json()) as Answer["body"]).data.stackKits.length).toBeGreaterThan(0);
  });

  it("holds over the socket too: registered documents run by hash or text, others are refused PERSISTED_QUERY_NOT_IN_LIST", async () => {
    const query = await overSocket(graph, { query: "", extensions: byHash(hashOf(CatalogDocument)) });
    expect(query.codes).toBeNull();
    expect(query.events[0]?.data.stackKits.length).toBeGreaterThan(0);
    expect((await overSocket(graph, { query: documentText(CatalogDocument) })).events[0]?.data.stackKits.length).toBeGreaterThan(0);

    for (const refused of [
      { query: UNREGISTERED },
      { query: "subscription { jobUpdated { id } }" },
      { query: "", extensions: byHash(sha256(UNREGISTERED)) },
      { query: UNREGISTERED, extensions: byHash(sha256(UNREGISTERED)) },
    ]) {
      expect((await overSocket(graph, refused, token)).codes).toEqual(["PERSISTED_QUERY_NOT_IN_LIST"]);
    }

    // A registered subscription by hash is accepted and stays open.
    const before = (await graph.metrics()).subscriptions.subscribers;
    const client = wsClient(`${graph.url}/graphql`, { authorization: `Bearer ${token}` });
    const subscription = collect(client, "", {}, byHash(hashOf(JobUpdatedDocument)));
    // Generous: on a loaded machine the first subscription also opens the stack subgraph's upstream socket.
    await expect.poll(async () => (await graph.metrics()).subscriptions.subscribers, { timeout: 20_000 }).toBe(before + 1);
    expect(subscription.events.flatMap((event) => event.errors ?? [])).toEqual([]);
    subscription.unsubscribe();
    await client.dispose();
  });
});
