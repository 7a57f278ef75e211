import type { RouteHandler } from "@kombify/service-core/server";
import type { StackKitCatalog } from "@kombify/stackkit-catalog";
import { sendJson } from "@kombify/service-core/http";
import type { DownloadLinks } from "./download-links.js";

/** GET /downloads?kit=&version=&expires=&signature=: the kit definition behind a signed link. */
export function downloadRoute(links: DownloadLinks, catalog: StackKitCatalog): RouteHandler {
  return async (req, res) => {
    const params = new URL(req.url ?? "/", "http://localhost").searchParams;
    const link = links.verify(params);
    if (!link) return sendJson(res, 403, { error: "FORBIDDEN", message: "The download link is invalid or has expired." });
    const kit = catalog.find(link.kitId);
    if (!kit || kit.version !== link.version) {
      return sendJson(res, 404, { error: "NOT_FOUND", message: `StackKit ${link.kitId}@${link.version} is not published.` });
    }
    res.writeHead(200, {
      "content-type": "application/json",
      "content-disposition": `attachment; filename="${kit.id}-${kit.version}.json"`,
      "x-content-sha256": kit.sha256,
    });
    res.end(kit.source);
  };
}
