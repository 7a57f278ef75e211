import { fetch } from "undici"; // not the global fetch, which loads a second undici (see SubgraphClient)
/** Asks every subgraph's /ready (next to its /graphql); the gateway is ready only when all answer 200. */
export async function subgraphReadiness(urls: Record<string, string>): Promise<{ ready: boolean; subgraphs: Record<string, boolean> }> {
  const results = await Promise.all(
    Object.entries(urls).map(async ([name, graphqlUrl]) => {
      try {
        const response = await fetch(new URL("ready", graphqlUrl.replace(/graphql\/?$/, "")), { signal: AbortSignal.timeout(2000) });
        return [name, response.ok] as const;
      } catch {
        return [name, false] as const;
      }
    }),
  );
  return { ready: results.every(([, ok]) => ok), subgraphs: Object.fromEntries(results) };
}
