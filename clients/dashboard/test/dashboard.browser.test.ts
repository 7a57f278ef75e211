import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DockerEngine } from "@kombify/simulation-containers";
import { blockNonLoopback, browserAvailable, launchBrowser, startTestSupergraph, testDocker, uniqueSuffix, type TestSupergraph } from "@kombify/testkit";
import { buildDashboard, dashboardBuildIsCurrent, startDashboardServer, type DashboardServer } from "../src/index.js";

const screenshots = fileURLToPath(new URL("../../../.tmp/", import.meta.url));
const docker = await testDocker();

/**
 * The dashboard as a person uses it: built with Vite, served as `pnpm start` serves it (same origin, /graphql
 * proxied), in Debian's Chromium with every request off this machine refused.
 */
describe.skipIf(!browserAvailable())("the live dashboard in Chromium", () => {
  let graph: TestSupergraph;
  let dashboard: DashboardServer;
  let browser: Browser;
  let token: string;
  let buildDir: string;
  const stackName = `home-${uniqueSuffix()}`;
  const pages: { page: Page; blocked: string[]; problems: string[] }[] = [];

  beforeAll(async () => {
    buildDir = mkdtempSync(join(tmpdir(), "kombify-dashboard-"));
    const distDir = join(buildDir, "dist");
    // Built here, from the sources, as on a fresh clone.
    const [, started] = await Promise.all([buildDashboard(distDir), startTestSupergraph({ subgraphEnv: { DRY_RUN_STEP_DELAY_MS: "30" } })]);
    graph = started;
    expect(dashboardBuildIsCurrent(distDir)).toBe(true);
    token = await graph.issuer.mint({ sub: `owner-${uniqueSuffix()}`, orgId: `org-${uniqueSuffix()}`, roles: ["tenant:owner"] });
    const tenant = await graph.graphql(`mutation { createTenant(name: "Dashboard Lab", slug: "dash-${uniqueSuffix()}") { id } }`, { token });
    expect(tenant.errors).toBeUndefined();
    const stack = await graph.graphql(
      `mutation { createStack(name: "${stackName}", stackKitId: "base-homelab", nodes: [{ hostname: "pi-01", address: "192.168.1.20" }, { hostname: "pi-02", address: "192.168.1.21", role: "storage" }]) { id } }`,
      { token },
    );
    expect(stack.errors).toBeUndefined();
    // The served configuration offers the token as `pnpm start` offers the demo user's.
    dashboard = await startDashboardServer({ distDir, gatewayUrl: graph.url, demoToken: () => token });
    browser = await launchBrowser();
    mkdirSync(screenshots, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await dashboard?.stop();
    if (graph && token) {
      const { data } = await graph.graphql("{ simulations { id } }", { token });
      for (const { id } of data?.simulations ?? []) await graph.graphql(`mutation { deleteSimulation(id: "${id}") }`, { token });
    }
    await graph?.stop();
    if (buildDir) rmSync(buildDir, { recursive: true, force: true });
  });

  /** A fresh page, signed in by typing the token, recording anything it tried to reach outside or complained about. */
  async function signedInPage(viewport = { width: 1280, height: 900 }): Promise<Page> {
    const page = await browser.newPage({ viewport, deviceScaleFactor: 1 });
    const record = { page, blocked: await blockNonLoopback(page), problems: [] as string[] };
    page.on("pageerror", (error) => record.problems.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error") record.problems.push(`console: ${message.text()}`);
    });
    pages.push(record);
    await page.goto(`${dashboard.url}/`);
    const field = page.getByLabel("Access token");
    // Offered by the served configuration (development), typed here as a person would.
    await expect.poll(() => field.inputValue()).toBe(token);
    await field.fill("");
    await field.fill(token);
    await field.press("Enter");
    await page.getByRole("heading", { name: "Plan: Free" }).waitFor();
    return page;
  }

  it("signs in with a token, lists the stack with its nodes, deploys it from the keyboard and shows the job reach 100 % with its log lines", async () => {
    const page = await signedInPage();
    await expect.poll(() => page.getByRole("status").filter({ hasText: "Live" }).count(), { timeout: 10_000 }).toBe(1);
    const stack = page.getByRole("article", { name: stackName });
    await stack.waitFor();
    expect(await stack.getByRole("listitem").allInnerTexts()).toEqual([expect.stringContaining("pi-01"), expect.stringContaining("pi-02")]);
    expect(await page.getByRole("region", { name: "Plan: Free" }).innerText()).toMatch(/1 of 3 stacks/);

    // Keyboard only: Tab from the top reaches the skip link, Sign out, then the stack's Deploy button.
    const deploy = stack.getByRole("button", { name: `Deploy ${stackName}` });
    await page.locator("body").focus();
    for (let presses = 0; presses < 5 && !(await deploy.evaluate((element) => element === document.activeElement)); presses++) await page.keyboard.press("Tab");
    expect(await deploy.evaluate((element) => element === document.activeElement)).toBe(true);
    expect(await deploy.evaluate((element) => getComputedStyle(element).outlineStyle)).toBe("solid");
    await page.keyboard.press("Enter");

    const job = stack.getByRole("listitem").filter({ has: page.getByRole("progressbar") }).first();
    const progress = job.getByRole("progressbar");
    await expect.poll(() => progress.getAttribute("aria-valuenow"), { timeout: 20_000 }).toBe("100");
    await expect.poll(() => job.innerText(), { timeout: 10_000 }).toContain("SUCCEEDED");
    const log = await job.getByRole("log").innerText();
    for (const node of ["pi-01", "pi-02"]) {
      for (const step of ["prepare", "proxy", "dashboard"]) expect(log).toContain(`[${node}] ${step}: recorded`);
    }
    // The stack's own status follows its deploy.
    await expect.poll(() => stack.locator(".card-head").innerText(), { timeout: 10_000 }).toContain("RUNNING");
    // A second deploy is newest first.
    await stack.getByRole("button", { name: `Deploy ${stackName}` }).click();
    await expect.poll(() => stack.getByRole("progressbar").count(), { timeout: 10_000 }).toBe(2);
    await expect.poll(() => stack.getByRole("progressbar").first().getAttribute("aria-valuenow"), { timeout: 20_000 }).toBe("100");
    await expect.poll(() => stack.getByRole("log").first().innerText(), { timeout: 10_000 }).toContain("[pi-02] dashboard: recorded");
    // The older job's log is folded away; a key opens it.
    expect(await stack.getByRole("log").count()).toBe(1);
    await stack.getByText("Log", { exact: true }).focus();
    await page.keyboard.press("Enter");
    expect(await stack.getByRole("log").nth(1).innerText()).toContain("[pi-02] dashboard: recorded");
  });

  it.skipIf(!docker.available)("shows a simulation's nodes turn RUNNING live, a container killed outside the API as FAILED, and back", async () => {
    const engine = (docker as { engine: DockerEngine }).engine;
    const page = await signedInPage();
    await expect.poll(() => page.getByRole("status").filter({ hasText: "Live" }).count(), { timeout: 10_000 }).toBe(1);
    await page.getByText("No simulations").waitFor();

    // Created through the API: the page learns of it from simulationUpdated alone.
    const created = await graph.graphql('mutation { createSimulation(name: "lab", nodeCount: 3, stackKitId: "base-homelab") { id status nodes { name containerId } } }', { token });
    expect(created.errors).toBeUndefined();
    const simulation = page.getByRole("article", { name: "lab" });
    const nodes = simulation.getByRole("list", { name: "Nodes of lab" }).getByRole("listitem");
    const nodeStatuses = async () => (await nodes.allInnerTexts()).map((text) => text.match(/\b(PENDING|PROVISIONING|RUNNING|STOPPING|STOPPED|FAILED)\b/)?.[1]);
    await expect.poll(nodeStatuses, { timeout: 30_000 }).toEqual(["RUNNING", "RUNNING", "RUNNING"]);
    await expect.poll(() => simulation.locator(".card-head").innerText()).toContain("RUNNING");
    expect(await page.getByRole("region", { name: "Plan: Free" }).innerText()).toMatch(/1 of 2 simulations/);

    const [, , third] = created.data.createSimulation.nodes as { name: string; containerId: string }[];
    await engine.docker.getContainer(third!.containerId).kill();
    await expect.poll(nodeStatuses, { timeout: 10_000 }).toEqual(["RUNNING", "RUNNING", "FAILED"]);
    await expect.poll(() => simulation.innerText()).toContain("node-3 stopped outside kombify");

    const restarted = await graph.graphql(`mutation { startSimulation(id: "${created.data.createSimulation.id}") { status } }`, { token });
    expect(restarted.errors).toBeUndefined();
    await expect.poll(nodeStatuses, { timeout: 30_000 }).toEqual(["RUNNING", "RUNNING", "RUNNING"]);
  });

  it("sends a refused token back to the sign-in form, saying why, and forgets it", async () => {
    const page = await browser.newPage();
    const record = { page, blocked: await blockNonLoopback(page), problems: [] as string[] };
    pages.push(record);
    await page.goto(`${dashboard.url}/`);
    const field = page.getByLabel("Access token");
    await field.fill("not-a-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByRole("alert").innerText(), { timeout: 10_000 }).toContain("The graph refused the token");
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.reload();
    await expect.poll(() => field.inputValue()).toBe(token);
  });

  it("reads at phone width without sideways scrolling, and took nothing from outside the machine", async () => {
    const desktop = await signedInPage();
    await desktop.getByRole("article", { name: stackName }).getByRole("log").first().waitFor();
    await desktop.screenshot({ path: join(screenshots, "dashboard.png"), fullPage: true });

    const phone = await signedInPage({ width: 390, height: 844 });
    const stack = phone.getByRole("article", { name: stackName });
    await stack.getByRole("log").first().waitFor();
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const deploy = stack.getByRole("button", { name: `Deploy ${stackName}` });
    const box = (await deploy.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    expect(box.height).toBeGreaterThanOrEqual(44);
    await phone.screenshot({ path: join(screenshots, "dashboard-phone.png"), fullPage: true });

    for (const { blocked, problems } of pages) {
      expect(blocked).toEqual([]);
      expect(problems).toEqual([]);
    }
  });
});
