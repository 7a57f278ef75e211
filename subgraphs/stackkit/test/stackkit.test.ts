import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseSubgraphSettings } from "@kombify/service-core/server/subgraph-runtime";
import { stackKitSubgraph } from "@kombify/subgraph-stackkit";
import { createTestTenant, startTestSubgraph, type TestSubgraph, type TestTenant } from "@kombify/testkit";

describe("stackkit subgraph", () => {
  let subgraph: TestSubgraph;
  let free: TestTenant;
  let pro: TestTenant;

  beforeAll(async () => {
    subgraph = await startTestSubgraph(stackKitSubgraph);
    free = await createTestTenant(subgraph.runtime);
    pro = await createTestTenant(subgraph.runtime, { plan: "PRO" });
  });
  afterAll(() => subgraph?.stop());

  it("lists the catalog from the kit files to anonymous callers, entitled to nobody", async () => {
    const { data, errors } = await subgraph.query("{ stackKits { id name version tier services entitled } }");
    expect(errors).toBeUndefined();
    const ids = data.stackKits.map((kit: { id: string }) => kit.id);
    expect(ids).toEqual(expect.arrayContaining(["base-homelab", "media-center", "dev-platform", "ha-cluster"]));
    expect(data.stackKits.every((kit: { entitled: boolean }) => kit.entitled === false)).toBe(true);
    const media = data.stackKits.find((kit: { id: string }) => kit.id === "media-center");
    expect(media).toMatchObject({ name: "Media Center", version: "2.1.0", tier: "FREE" });
    expect(media.services).toContain("jellyfin");
  });

  it("filters by tier and marks entitlement by the caller's plan", async () => {
    const { data } = await subgraph.query("{ stackKits(tier: PRO) { id entitled } }", { caller: pro.member });
    expect(data.stackKits).toEqual([{ id: "dev-platform", entitled: true }]);
    const asFree = await subgraph.query('{ stackKit(id: "dev-platform") { entitled } }', { caller: free.member });
    expect(asFree.data.stackKit.entitled).toBe(false);
    const missing = await subgraph.query('{ stackKit(id: "no-such-kit") { id } }');
    expect(missing.data.stackKit).toBeNull();
  });

  it("hands out a signed download link whose sha256 matches what it serves", async () => {
    const { data, errors } = await subgraph.query('mutation { requestStackKitDownload(id: "media-center") { url sha256 expiresAt } }', {
      caller: free.member,
    });
    expect(errors).toBeUndefined();
    expect(new Date(data.requestStackKitDownload.expiresAt).getTime()).toBeGreaterThan(Date.now());
    // Without STACKKIT_PUBLIC_URL the link names the gateway (GATEWAY_PUBLIC_URL's default), never this subgraph.
    const link = new URL(data.requestStackKitDownload.url);
    expect(link.origin).toBe("http://localhost:4000");
    expect(link.pathname).toBe("/downloads");
    // What the gateway would pass on: the same path and query, to this subgraph.
    const download = await fetch(new URL(`${link.pathname}${link.search}`, subgraph.url));
    expect(download.status).toBe(200);
    const body = Buffer.from(await download.arrayBuffer());
    const { createHash } = await import("node:crypto");
    expect(createHash("sha256").update(body).digest("hex")).toBe(data.requestStackKitDownload.sha256);

    const tampered = new URL(`${link.pathname}${link.search}`, subgraph.url);
    tampered.searchParams.set("kit", "ha-cluster");
    expect((await fetch(tampered)).status).toBe(403);
  });

  it("names STACKKIT_PUBLIC_URL in download links when it is set, keeping its path", async () => {
    const published = await startTestSubgraph(stackKitSubgraph, { env: { STACKKIT_PUBLIC_URL: "https://kits.example.test/edge" } });
    try {
      const { data, errors } = await published.query('mutation { requestStackKitDownload(id: "media-center") { url } }', { caller: free.member });
      expect(errors).toBeUndefined();
      expect(data.requestStackKitDownload.url).toMatch(/^https:\/\/kits\.example\.test\/edge\/downloads\?kit=media-center&/);
    } finally {
      await published.stop();
    }
  });

  it("refuses to start in production without STACKKIT_PUBLIC_URL, naming it (the internal address must not leak into links)", async () => {
    const production = { DATABASE_URL: "postgres://u@127.0.0.1:5432/db", CONTEXT_VERIFY_KEY: "-----BEGIN PUBLIC KEY-----", NODE_ENV: "production" };
    expect(() => parseSubgraphSettings(stackKitSubgraph, production)).toThrow(/^Invalid configuration: STACKKIT_PUBLIC_URL is required in production/);
    const settings = parseSubgraphSettings(stackKitSubgraph, { ...production, STACKKIT_PUBLIC_URL: "https://kits.example.test" });
    await expect(stackKitSubgraph.create(subgraph.runtime, settings)).resolves.toMatchObject({ routes: { "GET /downloads": expect.any(Function) } });
  });

  it("refuses downloads above the plan with PLAN_REQUIRED, and anonymous ones with UNAUTHENTICATED", async () => {
    const above = await subgraph.query('mutation { requestStackKitDownload(id: "ha-cluster") { url } }', { caller: pro.member });
    expect(above.errors?.[0]?.extensions).toMatchObject({ code: "PLAN_REQUIRED", requiredTier: "ENTERPRISE" });
    const anonymous = await subgraph.query('mutation { requestStackKitDownload(id: "media-center") { url } }');
    expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const unknown = await subgraph.query('mutation { requestStackKitDownload(id: "nope") { url } }', { caller: pro.member });
    expect(unknown.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  });

  it("resolves StackKit references for other subgraphs", async () => {
    const { data } = await subgraph.query(
      'query($r: [_Any!]!) { _entities(representations: $r) { ... on StackKit { id name entitled } } }',
      { variables: { r: [{ __typename: "StackKit", id: "base-homelab" }] }, caller: free.member },
    );
    expect(data._entities).toEqual([{ id: "base-homelab", name: "Base Homelab", entitled: true }]);
  });

  it("answers /health and /ready", async () => {
    expect((await fetch(`${subgraph.url}/health`)).status).toBe(200);
    const ready = await fetch(`${subgraph.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true });
  });
});
