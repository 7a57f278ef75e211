import { randomBytes } from "node:crypto";
import { z } from "zod";
import { buildFederatedSubgraph, resolverContainer } from "@kombify/service-core/federation/subgraph-schema";
import { ConfigError, envTypes } from "@kombify/service-core/config";
import { StackKitCatalog, stackKitCatalogSettingsShape } from "@kombify/stackkit-catalog";
import { defineSubgraph } from "@kombify/service-core/server/subgraph-runtime";
import { DownloadLinks } from "./download/download-links.js";
import { downloadRoute } from "./download/download-route.js";
import { stackKitReference } from "./stackkit/stackkit.reference.js";
import { StackKitResolver } from "./stackkit/stackkit.resolver.js";

const stackKitSettings = {
  STACKKIT_PUBLIC_URL: envTypes.url().optional(),
  GATEWAY_PUBLIC_URL: envTypes.url().default("http://localhost:4000"),
  STACKKIT_DOWNLOAD_SECRET: z.string().min(32).optional().describe("a secret of at least 32 characters"),
};

/** The StackKit catalog: public listing, entitlement per plan, signed downloads. Kits come from stackkits/. */
export const stackKitSubgraph = defineSubgraph({
  name: "stackkit",
  settings: { ...stackKitSettings, ...stackKitCatalogSettingsShape },
  // This subgraph's own listener is internal (loopback, or a container network): links must name an address clients
  // reach. Outside production that is the gateway, which passes GET /downloads on to us; in production the address
  // clients see (an edge proxy, a CDN) cannot be guessed, so it must be said.
  check(settings) {
    if (!settings.STACKKIT_PUBLIC_URL && settings.NODE_ENV === "production") {
      throw new ConfigError([
        "STACKKIT_PUBLIC_URL is required in production: the public base URL download links point at (e.g. the gateway's public URL, which serves /downloads).",
      ]);
    }
  },
  async create(runtime, settings) {
    const stackkits = StackKitCatalog.load(settings.STACKKITS_DIR);
    const publicUrl = settings.STACKKIT_PUBLIC_URL ?? settings.GATEWAY_PUBLIC_URL;
    // Without a configured secret, links stay valid only for this process's lifetime: fine for development.
    const links = new DownloadLinks(settings.STACKKIT_DOWNLOAD_SECRET ?? randomBytes(32).toString("hex"), publicUrl);
    const download = downloadRoute(links, stackkits);
    const subgraph = await buildFederatedSubgraph({
      resolvers: [StackKitResolver],
      container: resolverContainer([new StackKitResolver(stackkits, links)]),
      referenceResolvers: { StackKit: stackKitReference(stackkits) },
    });
    return {
      subgraph,
      readiness: { catalog: async () => stackkits.all().length > 0 },
      // HEAD too (Node sends the head without the body): the gateway passes clients' HEAD requests on as they are.
      routes: { "GET /downloads": download, "HEAD /downloads": download },
    };
  },
});
