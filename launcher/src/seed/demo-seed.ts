import { existsSync, writeFileSync } from "node:fs";
import type { Logger } from "@kombify/service-core";

export const DEMO_ORGANISATION = "demo-org";
export const DEMO_USER = { sub: "demo-user", email: "demo@kombify.local", name: "Demo User", orgId: DEMO_ORGANISATION, roles: ["tenant:owner"] };

async function graphql(gatewayUrl: string, token: string, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(`${gatewayUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}`, "x-request-id": "demo-seed" },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: any; errors?: { message: string }[] };
  if (body.errors?.length) throw new Error(`Seeding failed: ${body.errors.map((e) => e.message).join("; ")}`);
  return body.data;
}

/**
 * Gives the demo organisation a tenant with one stack, through the public graph itself, so the README's first
 * query returns something and the seed exercises the same path as any client. Each step checks first, so an
 * interrupted seed completes on the next start; the marker file stops it from re-adding what a user deleted.
 */
export async function seedDemoTenant(gatewayUrl: string, token: string, markerFile: string, log: Logger): Promise<void> {
  if (existsSync(markerFile)) return;
  const { myTenant } = await graphql(gatewayUrl, token, "{ myTenant { id } }");
  if (!myTenant) await graphql(gatewayUrl, token, `mutation { createTenant(name: "Demo Homelab", slug: "demo") { id } }`);
  const { stacks } = await graphql(gatewayUrl, token, "{ stacks { name } }");
  if (!stacks.some((stack: { name: string }) => stack.name === "media-server")) await graphql(
    gatewayUrl,
    token,
    `mutation Seed($nodes: [NodeInput!]!) { createStack(name: "media-server", stackKitId: "media-center", nodes: $nodes) { id } }`,
    {
      nodes: [
        { hostname: "nas-01", address: "192.168.1.10", role: "storage" },
        { hostname: "mini-01", address: "192.168.1.11", role: "worker" },
      ],
    },
  );
  writeFileSync(markerFile, `${new Date().toISOString()}\n`);
  log.info("seeded the demo tenant (slug demo) with the stack media-server");
}
