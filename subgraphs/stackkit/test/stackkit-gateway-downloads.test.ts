import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, startTestSupergraph, uniqueSuffix, type TestSupergraph } from "@kombify/testkit";

/** Download links handed out through the gateway point at the gateway, which serves them from the stackkit subgraph. */
describe("StackKit downloads through the gateway", () => {
  let graph: TestSupergraph;
  let token: string;

  beforeAll(async () => {
    graph = await startTestSupergraph();
    const pro = await createTestTenant(graph.subgraphs.tenant.runtime, { plan: "PRO" });
    token = await graph.issuer.mint({ sub: `user-${uniqueSuffix()}`, email: "pro@example.test", orgId: pro.orgId });
  });
  afterAll(() => graph?.stop());

  async function requestLink(kit: string): Promise<{ url: string; sha256: string }> {
    const { data, errors } = await graph.graphql(`mutation { requestStackKitDownload(id: "${kit}") { url sha256 } }`, { token });
    expect(errors).toBeUndefined();
    return data.requestStackKitDownload;
  }

  it("gives an entitled caller a link under the gateway's URL that downloads the kit through the gateway", async () => {
    const { url, sha256 } = await requestLink("dev-platform");
    expect(url.startsWith(`${graph.url}/downloads?`)).toBe(true);
    expect(url.startsWith(graph.subgraphs.stackkit.url)).toBe(false);

    const download = await fetch(url);
    expect(download.status).toBe(200);
    expect(download.headers.get("content-type")).toBe("application/json");
    expect(download.headers.get("content-disposition")).toMatch(/^attachment; filename="dev-platform-/);
    expect(download.headers.get("x-content-sha256")).toBe(sha256);
    expect(download.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const body = Buffer.from(await download.arrayBuffer());
    expect(createHash("sha256").update(body).digest("hex")).toBe(sha256);
    expect(JSON.parse(body.toString("utf8"))).toMatchObject({ id: "dev-platform" });

    const head = await fetch(url, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("x-content-sha256")).toBe(sha256);
  });

  it("refuses a tampered link (the subgraph's 403 passes through) and anything but GET or HEAD", async () => {
    const { url } = await requestLink("media-center");
    const signature = new URL(url);
    const original = signature.searchParams.get("signature")!;
    signature.searchParams.set("signature", `${original.startsWith("A") ? "B" : "A"}${original.slice(1)}`);
    const forged = await fetch(signature);
    expect(forged.status).toBe(403);
    expect(forged.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await forged.json()).toMatchObject({ error: "FORBIDDEN" });

    const otherKit = new URL(url);
    otherKit.searchParams.set("kit", "ha-cluster");
    expect((await fetch(otherKit)).status).toBe(403);

    const posted = await fetch(url, { method: "POST", body: "{}" });
    expect(posted.status).toBe(405);
    expect(posted.headers.get("allow")).toBe("GET, HEAD");
  });
});
