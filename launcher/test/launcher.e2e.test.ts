import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { assertPortFree } from "../src/services/ports.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, postGraphQL, testDocker, testSshPortRange } from "@kombify/testkit";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

/** The ```graphql blocks of the README: the example operations we promise work after `pnpm start`. */
function readmeOperations(): string[] {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  return [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((match) => match[1]!.trim());
}

async function launcherEnv(dataDir: string): Promise<NodeJS.ProcessEnv> {
  const subgraphBase = await consecutiveFreePorts(6);
  const { DATABASE_URL: _ignored, POCKETBASE_URL: _alsoIgnored, ...inherited } = process.env;
  return {
    ...inherited,
    NODE_ENV: "development",
    LOG_LEVEL: "warn",
    POCKETBASE_TIMEOUT_MS: "1500",
    KOMBIFY_DATA_DIR: dataDir,
    PORT: String(await freePort()),
    SUBGRAPH_PORT_BASE: String(subgraphBase),
    EMBEDDED_POSTGRES_PORT: String(await freePort()),
    POCKETBASE_PORT: String(await freePort()),
    DEV_ISSUER_PORT: String(await freePort()),
    METRICS_PORT: String(await freePort()),
    DASHBOARD_PORT: String(await freePort()),
    SIMULATION_SSH_PORTS: await testSshPortRange(),
  };
}

async function consecutiveFreePorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 20_000);
    const free = await Promise.all(Array.from({ length: count }, (_, i) => isFree(base + i)));
    if (free.every(Boolean)) return base;
  }
  throw new Error("no run of free ports found");
}

const isFree = (port: number) => assertPortFree(port, "127.0.0.1", "test").then(() => true, () => false);

interface Launched {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function launch(env: NodeJS.ProcessEnv): Launched {
  const child = spawn(process.execPath, ["--import", "tsx", "launcher/src/main.ts"], { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output: () => output, exited };
}

function firstBytes(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    socket.setTimeout(5000, () => socket.destroy(new Error(`nothing from ${host}:${port}`)));
    socket.once("data", (data) => {
      socket.destroy();
      resolve(data.toString("utf8"));
    });
    socket.once("error", reject);
  });
}

async function waitForOutput(launched: Launched, text: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!launched.output().includes(text)) {
    if (launched.child.exitCode !== null) throw new Error(`launcher exited early:\n${launched.output()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for "${text}":\n${launched.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Every process below `pid`, from /proc. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // exited while we looked
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) for (const child of children.get(queue.shift()!) ?? []) found.push(child), queue.push(child);
  return found;
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").trim();
  } catch {
    return "";
  }
}

/** The processes of `pids` still running after a grace period, with their command lines. */
async function survivors(pids: number[], graceMs = 5000): Promise<string[]> {
  const deadline = Date.now() + graceMs;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  return pids.filter(alive).map((pid) => `${pid} ${commandOf(pid)}`);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("pnpm start (the launcher)", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "kombify-launcher-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("starts PostgreSQL, PocketBase, six subgraphs and the gateway; the README's operations work; SIGTERM leaves nothing behind; data survives a restart", { timeout: 240_000 }, async () => {
    const env = await launcherEnv(dataDir);
    const first = launch(env);
    await waitForOutput(first, "kombify supergraph is up");
    const gateway = `http://127.0.0.1:${env.PORT}/graphql`;
    const token = readFileSync(join(dataDir, "demo-token"), "utf8").trim();

    const operations = readmeOperations();
    expect(operations.length).toBeGreaterThanOrEqual(3);
    for (const operation of operations) {
      const result = await postGraphQL<Record<string, unknown>>(gateway, { query: operation }, { authorization: `Bearer ${token}` });
      expect(result.errors, operation).toBeUndefined();
      expect(Object.values(result.data ?? {}).every((value) => value !== null), operation).toBe(true);
    }
    // Download links name the gateway (the launcher tells the stackkit subgraph its address) and work through it.
    const download = await postGraphQL<any>(gateway, { query: 'mutation { requestStackKitDownload(id: "media-center") { url } }' }, { authorization: `Bearer ${token}` });
    expect(download.data.requestStackKitDownload.url.startsWith(`http://127.0.0.1:${env.PORT}/downloads?`)).toBe(true);
    expect((await fetch(download.data.requestStackKitDownload.url)).status).toBe(200);
    // Metrics leave the public port: their own loopback listener, printed on a line of its own.
    expect(first.output()).toContain(`  Metrics      http://127.0.0.1:${env.METRICS_PORT}/metrics\n`);
    expect((await fetch(`http://127.0.0.1:${env.METRICS_PORT}/metrics`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${env.PORT}/metrics`)).status).toBe(404);
    // Stripe's webhook: printed, and answered by the billing subgraph (503 without STRIPE_WEBHOOK_SECRET, else 400
    // for this unsigned body).
    const webhook = `http://127.0.0.1:${Number(env.SUBGRAPH_PORT_BASE) + 5}/webhooks/stripe`;
    expect(first.output()).toContain(`  Webhooks     ${webhook}   (Stripe)\n`);
    const unsigned = await fetch(webhook, { method: "POST", headers: { "stripe-signature": "t=1,v1=0" }, body: "{}" });
    expect([400, 503]).toContain(unsigned.status);
    // The dashboard: its built page, the demo token offered on this machine, and the graph on the same origin.
    expect(first.output()).toContain(`  Dashboard    http://localhost:${env.DASHBOARD_PORT}/\n`);
    const dashboard = `http://127.0.0.1:${env.DASHBOARD_PORT}`;
    expect(await (await fetch(`${dashboard}/`)).text()).toContain('<div id="root">');
    expect(await (await fetch(`${dashboard}/config.json`)).json()).toEqual({ graphqlUrl: "/graphql", demoToken: token });
    const proxied = await postGraphQL<any>(`${dashboard}/graphql`, { query: "{ myTenant { slug } }" }, { authorization: `Bearer ${token}` });
    expect(proxied.data.myTenant.slug).toBe("demo");
    const crossing = await postGraphQL<any>(gateway, { query: "{ myTenant { slug plan { name } stacks { name stackKit { name tier } } } }" }, { authorization: `Bearer ${token}` });
    expect(crossing.data.myTenant).toMatchObject({ slug: "demo", plan: { name: "Free" } });
    expect(crossing.data.myTenant.stacks).toContainEqual({ name: "media-server", stackKit: { name: "Media Center", tier: "FREE" } });

    // With a Docker engine, the demo user gets a simulated node answering SSH; without one, a clear UNAVAILABLE.
    const docker = await testDocker();
    expect(first.output()).toMatch(docker.available ? /Simulations\s+Docker at / : /Simulations\s+unavailable/);
    const simulation = await postGraphQL<any>(gateway, { query: 'mutation { createSimulation(name: "launch-check", nodeCount: 1) { id status nodes { sshHost sshPort } } }' }, { authorization: `Bearer ${token}` });
    if (docker.available) {
      expect(simulation.errors).toBeUndefined();
      expect(simulation.data.createSimulation.status).toBe("RUNNING");
      const [node] = simulation.data.createSimulation.nodes;
      expect(await firstBytes(node.sshHost, node.sshPort)).toMatch(/^SSH-2\.0-/);
      const deleted = await postGraphQL<any>(gateway, { query: `mutation { deleteSimulation(id: "${simulation.data.createSimulation.id}") }` }, { authorization: `Bearer ${token}` });
      expect(deleted.data.deleteSimulation).toBe(true);
    } else {
      expect(simulation.errors?.[0]?.extensions?.code).toBe("UNAVAILABLE");
    }

    // A PocketBase that stops answering makes requests fail as UNAVAILABLE, not hang.
    const started = descendants(first.child.pid!);
    expect(started.length).toBeGreaterThanOrEqual(10); // store supervisor, postgres, pocketbase, six subgraphs, gateway
    const pocketbasePid = started.find((pid) => commandOf(pid).includes("pocketbase serve"))!;
    process.kill(pocketbasePid, "SIGSTOP");
    try {
      const hung = await postGraphQL<any>(gateway, { query: "{ stacks { id } }" }, { authorization: `Bearer ${token}` });
      expect(hung.errors?.[0]?.extensions?.code).toBe("UNAVAILABLE");
    } finally {
      process.kill(pocketbasePid, "SIGCONT");
    }

    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    expect(await survivors(started)).toEqual([]);

    const second = launch(env);
    await waitForOutput(second, "kombify supergraph is up");
    const again = await postGraphQL<any>(gateway, { query: "{ myTenant { stacks { name } } }" }, { authorization: `Bearer ${readFileSync(join(dataDir, "demo-token"), "utf8").trim()}` });
    const names = again.data.myTenant.stacks.map((stack: { name: string }) => stack.name);
    expect(names).toContain("media-server");
    expect(names.filter((name: string) => name === "media-server")).toHaveLength(1);
    // Even SIGKILL of the launcher leaves nothing: every child watches its IPC channel to the launcher.
    const secondProcesses = descendants(second.child.pid!);
    second.child.kill("SIGKILL");
    await second.exited;
    expect(await survivors(secondProcesses, 20_000)).toEqual([]);

    // A service that dies later stops the rest, with a line saying which.
    const third = launch(env);
    await waitForOutput(third, "kombify supergraph is up");
    const thirdProcesses = descendants(third.child.pid!);
    const stackSubgraph = thirdProcesses.find((pid) => commandOf(pid).includes("subgraphs/stack/src/main.ts"))!;
    process.kill(stackSubgraph, "SIGKILL");
    expect(await third.exited).toBe(1);
    expect(third.output()).toContain("subgraph stack exited unexpectedly (SIGKILL); stopping everything.");
    expect(await survivors(thirdProcesses)).toEqual([]);
  });

  it.each([
    [{ SUBGRAPH_PORT_BASE: "65533" }, 'Invalid configuration: SUBGRAPH_PORT_BASE="65533" is invalid: a TCP port number (1-65530)'],
    [{ PORT: "0" }, 'Invalid configuration: PORT="0" is invalid: a TCP port number (1-65535)'],
    [{ NODE_ENV: "production", OIDC_ISSUER: "https://issuer.example", OIDC_AUDIENCE: "x" }, "Invalid configuration: POCKETBASE_SUPERUSER_PASSWORD must be set to a secret of your own in production."],
  ])("refuses %j before starting anything", async (overrides, message) => {
    const launched = launch({ ...(await launcherEnv(dataDir)), ...overrides });
    expect(await launched.exited).toBe(78);
    expect(launched.output().trim()).toBe(message);
  });

  it("refuses bad configuration in one line that names the variable", async () => {
    const launched = launch({ ...(await launcherEnv(dataDir)), PORT: "not-a-port" });
    expect(await launched.exited).toBe(78);
    expect(launched.output().trim()).toBe('Invalid configuration: PORT="not-a-port" is invalid: a TCP port number (1-65535)');
  });

  it("says which port is busy and what to do, before starting anything", async () => {
    const env = await launcherEnv(dataDir);
    const blocker = createServer().listen(Number(env.PORT), "127.0.0.1");
    try {
      const launched = launch(env);
      expect(await launched.exited).toBe(1);
      expect(launched.output().trim()).toBe(`kombify could not start: Port ${env.PORT} is already in use (PORT): stop what holds it, or set PORT to a free port.`);
    } finally {
      blocker.close();
    }
  });

  it("says what to do when the PocketBase binary is missing", async () => {
    const launched = launch({ ...(await launcherEnv(dataDir)), POCKETBASE_BINARY: "/nonexistent/pocketbase" });
    expect(await launched.exited).toBe(1);
    expect(launched.output().trim()).toBe(
      "kombify could not start: POCKETBASE_BINARY=/nonexistent/pocketbase does not exist: point it at a PocketBase executable, or unset it.",
    );
  });
});
