import { z } from "zod";
import { buildFederatedSubgraph, resolverContainer } from "@kombify/service-core/federation/subgraph-schema";
import { NamespaceResolver } from "@kombify/homelab-store";
import { assertHomelabStoreSecrets, connectHomelabStore, homelabStoreSettingsShape } from "@kombify/homelab-store";
import { defineSubgraph } from "@kombify/service-core/server/subgraph-runtime";
import { instanceLookup, TENANT_CHANGED_CHANNEL } from "@kombify/subgraph-tenant/tenant-directory";
import { identityMigrations } from "./db/schema.js";
import { HomelabLauncher } from "./launch/homelab-launcher.js";
import { UserCache } from "./user/user-cache.js";
import { UserResolver } from "./user/user.resolver.js";

const identitySettings = {
  LAUNCH_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(3600).describe("seconds, 60 to 86400"),
  HOMELAB_URL_TEMPLATE: z
    .string()
    .includes("{slug}")
    .default("{instanceUrl}/?tenant={slug}")
    .describe("a URL template with {slug} (and optionally {instanceUrl})"),
};

/** Who is calling: `me` from the verified context, the user cache, and the SSO exchange into PocketBase. */
export const identitySubgraph = defineSubgraph({
  name: "identity",
  settings: { ...identitySettings, ...homelabStoreSettingsShape },
  check: assertHomelabStoreSecrets,
  async create(runtime, settings) {
    const homelab = connectHomelabStore(settings);
    await runtime.migrate(identityMigrations);
    const users = new UserCache(runtime.db);
    const namespaces = new NamespaceResolver(instanceLookup(runtime.db), homelab.connections);
    const launcher = new HomelabLauncher(runtime.db, namespaces, users, {
      tokenTtlSeconds: settings.LAUNCH_TOKEN_TTL_SECONDS,
      redirectUrlTemplate: settings.HOMELAB_URL_TEMPLATE,
    });
    const subgraph = await buildFederatedSubgraph({
      resolvers: [UserResolver],
      container: resolverContainer([new UserResolver(users, launcher)]),
      referenceResolvers: { User: UserResolver.reference(users) },
    });
    return {
      subgraph,
      readiness: { database: runtime.checks.database, pocketbase: homelab.answers },
      // A tenant moved (or began moving): its instance is asked of the directory again, not remembered.
      start: async () => {
        await runtime.database.sql.listen(TENANT_CHANGED_CHANNEL, (tenantId) => namespaces.forget(tenantId));
      },
    };
  },
});
