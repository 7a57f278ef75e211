/** What the server tells the page at start: where GraphQL is and, in development only, a token to offer. */
export interface DashboardConfig {
  /** Absolute HTTP(S) URL of the graph. */
  graphqlUrl: string;
  /** The same endpoint for graphql-ws. */
  websocketUrl: string;
  demoToken?: string;
}

/**
 * Reads `config.json` next to index.html (served by `pnpm start`); without one, GraphQL is `/graphql` on this
 * page's origin. Nothing about the gateway is built into the bundle.
 */
export async function loadConfig(): Promise<DashboardConfig> {
  let served: { graphqlUrl?: unknown; demoToken?: unknown } = {};
  try {
    const response = await fetch(new URL("config.json", document.baseURI), { cache: "no-store", credentials: "same-origin" });
    if (response.ok) served = (await response.json()) as typeof served;
  } catch {
    // No served configuration: same origin.
  }
  const graphqlUrl = new URL(typeof served.graphqlUrl === "string" ? served.graphqlUrl : "/graphql", window.location.href);
  const websocketUrl = new URL(graphqlUrl);
  websocketUrl.protocol = graphqlUrl.protocol === "https:" ? "wss:" : "ws:";
  return {
    graphqlUrl: graphqlUrl.toString(),
    websocketUrl: websocketUrl.toString(),
    ...(typeof served.demoToken === "string" && served.demoToken ? { demoToken: served.demoToken } : {}),
  };
}
