import { existsSync, writeFileSync } from "node:fs";
import { CreateStackDocument, CreateTenantDocument, KombifyClient, MyHomelabDocument } from "@kombify/client";
import type { Logger } from "@kombify/service-core/logging";

export const DEMO_ORGANISATION = "demo-org";
export const DEMO_USER = { sub: "demo-user", email: "demo@kombify.local", name: "Demo User", orgId: DEMO_ORGANISATION, roles: ["tenant:owner"] };

/**
 * Gives the demo organisation a tenant with one stack, through the public graph itself with the typed client's
 * generated operations, so the README's first query returns something and the seed exercises the same path as
 * any client. Each step checks first, so an interrupted seed completes on the next start; the marker file stops
 * it from re-adding what a user deleted.
 */
export async function seedDemoTenant(gatewayUrl: string, token: string, markerFile: string, log: Logger): Promise<void> {
  if (existsSync(markerFile)) return;
  const kombify = new KombifyClient({ url: `${gatewayUrl}/graphql`, token, headers: { "x-request-id": "demo-seed" } });
  try {
    const { myTenant } = await kombify.request(MyHomelabDocument);
    if (!myTenant) await kombify.request(CreateTenantDocument, { name: "Demo Homelab", slug: "demo" });
    const stacks = myTenant?.stacks ?? [];
    if (!stacks.some((stack) => stack.name === "media-server")) {
      await kombify.request(CreateStackDocument, {
        name: "media-server",
        stackKitId: "media-center",
        nodes: [
          { hostname: "nas-01", address: "192.168.1.10", role: "storage" },
          { hostname: "mini-01", address: "192.168.1.11", role: "worker" },
        ],
      });
    }
  } catch (error) {
    throw new Error(`Seeding failed: ${(error as Error).message}`);
  }
  writeFileSync(markerFile, `${new Date().toISOString()}\n`);
  log.info("seeded the demo tenant (slug demo) with the stack media-server");
}
