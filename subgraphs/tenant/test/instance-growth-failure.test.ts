import { createServer, type Server } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SignedInCaller } from "@kombify/service-core/auth";
import { freePort, startTestSubgraph, uniqueSuffix, type TestSubgraph } from "@kombify/testkit";
import { tenantSubgraph } from "../src/index.js";

const newcomer = (): SignedInCaller => {
  const suffix = uniqueSuffix();
  return { kind: "user", userId: `user-${suffix}`, email: `${suffix}@example.test`, name: "New", orgId: `org-${suffix}`, orgName: null, roles: [], tenant: null };
};

/** A full platform whose provisioning fails tells a new tenant UNAVAILABLE at once, instead of holding it until the wait runs out. */
describe("tenant creation when provisioning fails", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "kombify-growth-failure-"));
  let subgraph: TestSubgraph;
  let squatter: Server;

  beforeAll(async () => {
    // The provisioner's only port is taken: every provisioning fails.
    const port = await freePort();
    squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(port, "127.0.0.1", resolve));
    subgraph = await startTestSubgraph(tenantSubgraph, {
      env: {
        STACK_INSTANCE_NAME: `tiny-${uniqueSuffix()}`,
        STACK_INSTANCE_MAX_TENANTS: "1",
        INSTANCE_PROVISIONER: "process",
        INSTANCE_PROVISION_AT: "1",
        INSTANCE_PROVISION_WAIT_MS: "60000",
        INSTANCE_PROCESS_DATA_DIR: dataDir,
        INSTANCE_PROCESS_PORTS: `${port}-${port}`,
      },
    });
  });
  afterAll(async () => {
    await subgraph?.stop();
    squatter?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("places the tenant that fits, then answers UNAVAILABLE within seconds, not after INSTANCE_PROVISION_WAIT_MS", async () => {
    const fits = await subgraph.query(`mutation { createTenant(name: "Fits", slug: "fits-${uniqueSuffix()}") { id } }`, { caller: newcomer() });
    expect(fits.errors).toBeUndefined();
    const startedAt = Date.now();
    const refused = await subgraph.query(`mutation { createTenant(name: "No room", slug: "noroom-${uniqueSuffix()}") { id } }`, { caller: newcomer() });
    expect(refused.errors?.[0]?.extensions?.code).toBe("UNAVAILABLE");
    expect(Date.now() - startedAt).toBeLessThan(15_000);
    const { sql } = subgraph.runtime.database;
    const [row] = await sql`select count(*)::int as n from tenant.tenants`;
    expect(row!.n).toBe(1);
  });
});
