import { createHmac, timingSafeEqual } from "node:crypto";

const LINK_LIFETIME_MS = 15 * 60 * 1000;

export interface DownloadLink {
  url: string;
  expiresAt: Date;
}

/**
 * Signed, expiring download links for kit definitions. The stackkit subgraph serves them at GET /downloads; clients
 * reach that through `publicUrl`: STACKKIT_PUBLIC_URL, or the gateway, which passes /downloads on to this subgraph.
 */
export class DownloadLinks {
  private readonly downloads: URL;

  constructor(
    private readonly secret: string,
    /** The base URL clients use; links are `<publicUrl>/downloads?...`, keeping any path it has (a proxy's prefix). */
    publicUrl: string,
  ) {
    this.downloads = new URL("downloads", publicUrl.endsWith("/") ? publicUrl : `${publicUrl}/`);
  }

  create(kitId: string, version: string, now = Date.now()): DownloadLink {
    const expires = now + LINK_LIFETIME_MS;
    const url = new URL(this.downloads);
    url.searchParams.set("kit", kitId);
    url.searchParams.set("version", version);
    url.searchParams.set("expires", String(expires));
    url.searchParams.set("signature", this.sign(kitId, version, expires));
    return { url: url.toString(), expiresAt: new Date(expires) };
  }

  /** Whether the query of a download request carries a valid, unexpired signature. */
  verify(params: URLSearchParams, now = Date.now()): { kitId: string; version: string } | null {
    const kitId = params.get("kit") ?? "";
    const version = params.get("version") ?? "";
    const expires = Number(params.get("expires"));
    const signature = Buffer.from(params.get("signature") ?? "");
    if (!Number.isFinite(expires) || expires < now) return null;
    const expected = Buffer.from(this.sign(kitId, version, expires));
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) return null;
    return { kitId, version };
  }

  private sign(kitId: string, version: string, expires: number): string {
    return createHmac("sha256", this.secret).update(`${kitId}\n${version}\n${expires}`).digest("base64url");
  }
}
