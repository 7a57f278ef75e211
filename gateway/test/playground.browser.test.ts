import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blockNonLoopback, browserAvailable, launchBrowser, startTestSupergraph, uniqueSuffix, type TestSupergraph } from "@kombify/testkit";

type Browser = Awaited<ReturnType<typeof launchBrowser>>;
type Page = Awaited<ReturnType<Browser["newPage"]>>;

const SCREENSHOT = fileURLToPath(new URL("../../.tmp/playground.png", import.meta.url));

/** What a Monaco editor shows, as plain text (Monaco renders spaces as non-breaking ones). */
async function editorText(page: Page, selector: string): Promise<string> {
  return ((await page.locator(selector).first().textContent()) ?? "").replace(/\u00a0/g, " ");
}

/** Replaces an editor's content as typing would, without Monaco closing brackets and quotes on its own. */
async function typeInto(page: Page, selector: string, text: string): Promise<void> {
  await page.locator(`${selector} .view-lines`).first().click();
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  await page.keyboard.insertText(text);
}

const QUERY_EDITOR = "section.graphiql-query-editor .graphiql-editor";
const HEADERS_EDITOR = 'section.graphiql-editor-tool[aria-label="Headers"] .graphiql-editor:not(.hidden)';
const RESULT = ".graphiql-response .result-window .view-lines";

describe.skipIf(!browserAvailable())("the playground in Chromium", () => {
  let graph: TestSupergraph;
  let browser: Browser;

  beforeAll(async () => {
    graph = await startTestSupergraph({ subgraphEnv: { DRY_RUN_STEP_DELAY_MS: "30" } });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await graph?.stop();
  });

  it("loads with every request to another host blocked, runs a query with the typed token, and shows a subscription's events", async () => {
    const orgId = `org-${uniqueSuffix()}`;
    const token = await graph.issuer.mint({ sub: `owner-${uniqueSuffix()}`, orgId, roles: ["tenant:owner"] });
    const slug = `pg-${uniqueSuffix()}`;
    expect((await graph.graphql(`mutation { createTenant(name: "Playground lab", slug: "${slug}") { id } }`, { token })).errors).toBeUndefined();
    const stack = await graph.graphql('mutation { createStack(name: "home-base", stackKitId: "base-homelab", nodes: [{ hostname: "pi-01", address: "192.168.1.20" }]) { id } }', { token });
    expect(stack.errors).toBeUndefined();
    const stackId: string = stack.data.createStack.id;

    const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
    const blocked = await blockNonLoopback(page);
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console: ${message.text()}`);
    });
    // Anything the page's Content-Security-Policy stops is a thing the page needed and could not have.
    await page.addInitScript(() => {
      document.addEventListener("securitypolicyviolation", (event) => console.error(`CSP blocked ${event.blockedURI} (${event.violatedDirective})`));
    });
    const socketFrames: string[] = [];
    page.on("websocket", (socket) => {
      socketFrames.push(`open ${socket.url()}`);
      socket.on("framesent", (frame) => socketFrames.push(String(frame.payload)));
    });

    await page.goto(`${graph.url}/graphql`);
    await expect.poll(() => editorText(page, QUERY_EDITOR), { timeout: 20_000 }).toContain("query MyHomelab");
    expect(await page.locator("button.graphiql-tab-button").allTextContents()).toEqual(["MyHomelab", "Catalog", "AddStack", "JobStatus"]);

    // The token, typed once into this tab's Headers pane (open from the start), then the query over HTTP.
    await typeInto(page, HEADERS_EDITOR, `{"Authorization": "Bearer ${token}"}`);
    await page.locator(".graphiql-execute-button").click();
    await expect.poll(() => editorText(page, RESULT), { timeout: 15_000 }).toContain(`"slug": "${slug}"`);
    const result = await editorText(page, RESULT);
    expect(result).toContain('"name": "Playground lab"');
    expect(result).not.toContain('"errors"');

    // The subscription tab, its own headers, and a deploy made through the API: its events arrive over the socket.
    await page.locator('button.graphiql-tab-button[title="JobStatus"]').click();
    await expect.poll(() => editorText(page, QUERY_EDITOR)).toContain("subscription JobStatus");
    await typeInto(page, HEADERS_EDITOR, `{"Authorization": "Bearer ${token}"}`);
    await page.locator(".graphiql-execute-button").click();
    for (let attempt = 0; attempt < 10 && !(await editorText(page, RESULT)).includes('"jobUpdated"'); attempt++) {
      // graphql-ws says nothing when a subscription has started: a deploy made before is not seen, the next one is.
      expect((await graph.graphql(`mutation { deployStack(id: "${stackId}") { id } }`, { token })).errors).toBeUndefined();
      for (let waited = 0; waited < 3000 && !(await editorText(page, RESULT)).includes('"jobUpdated"'); waited += 100) await page.waitForTimeout(100);
    }
    await expect.poll(() => editorText(page, RESULT), { timeout: 30_000 }).toMatch(/"status": "(SUCCEEDED|FAILED|CANCELLED)"/);
    const event = await editorText(page, RESULT);
    expect(event).toContain('"status": "SUCCEEDED"');
    expect(event).toContain('"progress": 1,');
    expect(event).toContain('"name": "home-base"');
    expect(event).not.toContain('"errors"');

    // The token reached the socket in the subscribe message's extensions.headers, not in connection_init.
    expect(socketFrames[0]).toBe(`open ${graph.url.replace(/^http/, "ws")}/graphql`);
    const sent = socketFrames.slice(1).map((frame) => JSON.parse(frame));
    expect(sent[0]).toMatchObject({ type: "connection_init" });
    expect(JSON.stringify(sent[0])).not.toContain(token);
    expect(sent.find((message) => message.type === "subscribe")).toMatchObject({ payload: { extensions: { headers: { Authorization: `Bearer ${token}` } } } });

    // The headers' beginning in view, for the picture.
    await page.locator(`${HEADERS_EDITOR} .view-lines`).first().click();
    await page.keyboard.press("Control+Home");
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
    expect(blocked).toEqual([]);
    expect(problems).toEqual([]);

    // And it could not have: its CSP refuses even another port on this machine (the token issuer's).
    const elsewhere = await page.evaluate(async (url) => {
      try {
        await fetch(url);
        return "reached";
      } catch (error) {
        return String(error);
      }
    }, `${graph.issuer.issuer}/.well-known/openid-configuration`);
    expect(elsewhere).not.toBe("reached");
    await expect.poll(() => problems.join("\n")).toMatch(/CSP blocked .*connect-src/);
    await page.close();
  }, 120_000);
});
