import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { gzip } from "node:zlib";
import { promisify } from "node:util";
import type { renderGraphiQL as RenderGraphiQL } from "@graphql-yoga/render-graphiql";

type GraphiQLOptions = NonNullable<Parameters<typeof RenderGraphiQL>[0]>;

/**
 * The playground's default tabs: the README's example operations ("Try it" and "Live job status"), kept here
 * and checked against the README by gateway/test/playground.test.ts, so the two never drift apart.
 */
export const PLAYGROUND_TABS: readonly { name: string; query: string }[] = [
  {
    name: "MyHomelab",
    query: `query MyHomelab {
  myTenant {
    name
    slug
    plan { name limits { maxStacks maxSimulations } }
    featureFlags { key enabled source }
    stacks {
      name
      status
      stackKit { name tier entitled }
      nodes { hostname address role }
    }
  }
}`,
  },
  {
    name: "Catalog",
    query: `query Catalog {
  stackKits { id name version tier services entitled }
  plans { tier name priceMonthlyCents limits { requestsPerMinute maxStacks } }
}`,
  },
  {
    name: "AddStack",
    query: `mutation AddStack {
  createStack(
    name: "home-base"
    stackKitId: "base-homelab"
    nodes: [{ hostname: "pi-01", address: "192.168.1.20" }, { hostname: "pi-02", address: "192.168.1.21", role: "storage" }]
  ) {
    id
    name
    status
    stackKit { name }
    nodes { hostname role status }
  }
}`,
  },
  {
    name: "JobStatus",
    query: `subscription JobStatus($stackId: ID) {
  jobUpdated(stackId: $stackId) {
    status
    progress
    logs(tail: 5)
    stack { name stackKit { name tier } }
  }
}`,
  },
];

const PLAYGROUND_PATH = "/graphiql";
const GRAPHQL_PATH = "/graphql";

export interface Playground {
  /** Whether this request is for the playground: any request to /graphiql, and a browser's GET of /graphql. */
  serves(req: IncomingMessage, path: string): boolean;
  serve(req: IncomingMessage, res: ServerResponse, headers: Record<string, string>): Promise<void>;
}

/**
 * GraphiQL as `@graphql-yoga/render-graphiql` renders it: one page with its JavaScript, CSS, fonts and Monaco's
 * workers inlined (blob workers), so it works on a machine without internet. Rendered once here; served with
 * a Content-Security-Policy that allows the page's one inline script (by hash), inline styles, data: fonts and
 * images, blob: workers, and connections to its own origin only (HTTP for queries and mutations, graphql-ws on
 * the same path for subscriptions): the page cannot reach anything else, whatever a tab or header holds.
 */
export async function createPlayground(options: { title?: string } = {}): Promise<Playground> {
  // 9 MB of inlined GraphiQL: loaded only by gateways that serve it.
  const { renderGraphiQL } = await import("@graphql-yoga/render-graphiql");
  const graphiql: GraphiQLOptions = {
    title: options.title ?? "kombify supergraph",
    endpoint: GRAPHQL_PATH,
    subscriptionsProtocol: "WS",
    defaultTabs: PLAYGROUND_TABS.map(({ query }) => ({ query })),
    // The Headers pane starts open: that is where the token goes, `{"Authorization": "Bearer …"}`.
    defaultEditorToolsVisibility: "headers",
  };
  // The options are written into the page's script as JSON: nothing in them may end or escape the script.
  if (/<|\u2028|\u2029/.test(JSON.stringify(graphiql))) throw new Error("The playground's options must not contain '<'.");
  // The HTML parser turns CR and CRLF into LF before a script's hash is checked: do it first, so the hash holds.
  const html = renderGraphiQL(graphiql).replace(/\r\n?/g, "\n");
  const scriptStart = html.indexOf("<script>");
  const scriptEnd = html.lastIndexOf("</script>");
  if (scriptStart < 0 || scriptEnd < scriptStart || html.indexOf("</script>") !== scriptEnd) {
    throw new Error("GraphiQL's page no longer has the one inline script the playground's CSP expects.");
  }
  const scriptHash = createHash("sha256").update(html.slice(scriptStart + "<script>".length, scriptEnd)).digest("base64");
  const body = Buffer.from(html);
  const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 32)}"`;
  let gzipped: Promise<Buffer> | undefined;
  const policy = (connect: string) =>
    [
      "default-src 'none'",
      `script-src 'sha256-${scriptHash}'`,
      "style-src 'unsafe-inline'",
      "font-src data:",
      "img-src 'self' data:",
      "worker-src blob:",
      `connect-src ${connect}`,
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join("; ");

  return {
    serves(req, path) {
      return path === PLAYGROUND_PATH || (path === GRAPHQL_PATH && (req.method === "GET" || req.method === "HEAD") && prefersHtml(req.headers.accept));
    },
    async serve(req, res, headers) {
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { ...headers, allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" });
        res.end("The playground answers GET.\n");
        return;
      }
      const common = {
        ...headers,
        "content-type": "text/html; charset=utf-8",
        "content-security-policy": policy(connectSources(req.headers.host)),
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-resource-policy": "same-origin",
        "x-frame-options": "DENY",
        "cache-control": "no-cache",
        vary: "Accept, Accept-Encoding",
        etag,
      };
      if (req.headers["if-none-match"]?.split(",").some((tag) => tag.trim() === etag)) {
        res.writeHead(304, common);
        res.end();
        return;
      }
      const compressed = /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? "")) ? await (gzipped ??= promisify(gzip)(body)) : null;
      const payload = compressed ?? body;
      res.writeHead(200, { ...common, "content-length": String(payload.length), ...(compressed ? { "content-encoding": "gzip" } : {}) });
      res.end(req.method === "HEAD" ? undefined : payload);
    },
  };
}

/** Whether an Accept header asks for HTML before JSON (a browser's navigation does; API clients do not). */
export function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  let html = { q: 0, at: Infinity };
  let json = { q: 0, at: Infinity };
  accept.split(",").forEach((range, at) => {
    const [type = "", ...params] = range.split(";").map((part) => part.trim().toLowerCase());
    const qParam = params.find((param) => param.startsWith("q="));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!(q > 0)) return;
    if (type === "text/html" && q > html.q) html = { q, at };
    if ((type === "application/json" || type === "application/graphql-response+json") && q > json.q) json = { q, at };
  });
  return html.q > json.q || (html.q > 0 && html.q === json.q && html.at < json.at);
}

/**
 * The page's own origin for connect-src: 'self' (which covers ws: and wss: on the same host in CSP 3), and the
 * Host it was asked for by explicitly for ws: and wss:, when that Host is a plain host[:port].
 */
function connectSources(host: string | undefined): string {
  const plainHost = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;
  return host && plainHost.test(host) ? `'self' ws://${host} wss://${host}` : "'self'";
}
