import { randomBytes } from "node:crypto";
import { z } from "zod";
import {
  buildFederatedSubgraph,
  envTypes,
  parseEnv,
  resolverContainer,
  type SubgraphFactory,
} from "@kombify/service-core";
import { DownloadLinks } from "./download/download-links.js";
import { downloadRoute } from "./download/download-route.js";
import { stackKitReference } from "./stackkit/stackkit.reference.js";
import { StackKitResolver } from "./stackkit/stackkit.resolver.js";

const stackKitSettings = {
  STACKKIT_PUBLIC_URL: envTypes.url().optional(),
  STACKKIT_DOWNLOAD_SECRET: z.string().min(32).optional().describe("a secret of at least 32 characters"),
};

/** The StackKit catalog: public listing, entitlement per plan, signed downloads. Kits come from stackkits/. */
export const createStackKitSubgraph: SubgraphFactory = async (runtime) => {
  const settings = parseEnv(stackKitSettings, runtime.env);
  const publicUrl = () => settings.STACKKIT_PUBLIC_URL ?? runtime.listeningUrl();
  // Without a configured secret, links stay valid only for this process's lifetime: fine for development.
  const links = new DownloadLinks(settings.STACKKIT_DOWNLOAD_SECRET ?? randomBytes(32).toString("hex"), publicUrl);
  const subgraph = await buildFederatedSubgraph({
    resolvers: [StackKitResolver],
    container: resolverContainer([new StackKitResolver(runtime.stackkits, links)]),
    referenceResolvers: { StackKit: stackKitReference(runtime.stackkits) },
  });
  return {
    subgraph,
    readiness: { catalog: async () => runtime.stackkits.all().length > 0 },
    routes: { "GET /downloads": downloadRoute(links, runtime.stackkits) },
  };
};
