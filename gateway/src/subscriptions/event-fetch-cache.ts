import type { GraphQLDataSource } from "@apollo/gateway";
import type { GatewayGraphQLResponse } from "@apollo/server-gateway-interface";
import type { GatewayContext } from "../gateway-context.js";
import { sharingAudience } from "./sharing-audience.js";

/** Longest a subgraph's answer is reused, whatever its Cache-Control says. */
const MAX_AGE_CAP_SECONDS = 300;

/** How long an answer may be reused and by whom, from its Cache-Control; null when it may not be. */
export function reusePolicy(cacheControl: string | null | undefined): { maxAgeSeconds: number; shared: boolean } | null {
  if (!cacheControl) return null;
  const directives = cacheControl.toLowerCase().split(",").map((directive) => directive.trim());
  if (directives.includes("no-store") || directives.includes("no-cache")) return null;
  const maxAge = directives.find((directive) => directive.startsWith("max-age="));
  const seconds = maxAge ? Number(maxAge.slice("max-age=".length)) : Number.NaN;
  if (!Number.isInteger(seconds) || seconds <= 0) return null;
  // Only an explicit `public` is shared across audiences: tenant data must never leak through a cache.
  return { maxAgeSeconds: Math.min(seconds, MAX_AGE_CAP_SECONDS), shared: directives.includes("public") };
}

interface Entry {
  /** The answer's data as JSON: every reuse parses its own copy, because executing a plan merges into it. */
  data: string;
  expiresAt: number;
}

/**
 * Answers of other subgraphs reused across subscription events while the subgraph's own `Cache-Control` says
 * they are fresh (the StackKit catalog's, for a minute): a job's events all need the same kit, and fetching
 * it for every event cost the gateway a round trip per event and put another service's scheduling into
 * every event's latency. An answer without `max-age`, with `no-store`, or with errors is never reused, so
 * everything else is still fetched once per event. `private` answers (and those that do not say) are kept
 * per audience (tenant, plan and roles); only `public` ones are shared.
 */
export class EventFetchCache {
  private readonly entries = new Map<string, Entry>();
  private hits = 0;
  private misses = 0;

  constructor(
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  get stats() {
    return { entries: this.entries.size, hits: this.hits, misses: this.misses };
  }

  /** Data sources that answer from this cache while they may, and otherwise ask `sources` and keep what may be kept. */
  wrap(sources: Record<string, GraphQLDataSource>): Record<string, GraphQLDataSource> {
    return Object.fromEntries(Object.entries(sources).map(([name, source]) => [name, this.wrapOne(name, source)]));
  }

  private wrapOne(name: string, source: GraphQLDataSource): GraphQLDataSource {
    return {
      process: async (options) => {
        const request = JSON.stringify([name, options.request.query ?? null, options.request.variables ?? null]);
        const audience = sharingAudience((options.context as GatewayContext).caller);
        const reusable = this.fresh(`${audience}\n${request}`) ?? this.fresh(`*\n${request}`);
        if (reusable !== undefined) {
          this.hits += 1;
          return { data: JSON.parse(reusable) as Record<string, unknown> };
        }
        this.misses += 1;
        const response: GatewayGraphQLResponse = await source.process(options);
        const policy = reusePolicy(response.http?.headers.get("cache-control"));
        if (policy && response.data && !response.errors?.length) {
          this.keep(`${policy.shared ? "*" : audience}\n${request}`, JSON.stringify(response.data), policy.maxAgeSeconds);
        }
        return response;
      },
    };
  }

  private fresh(key: string): string | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt > this.now()) return entry.data;
    this.entries.delete(key);
    return undefined;
  }

  private keep(key: string, data: string, maxAgeSeconds: number): void {
    this.entries.delete(key);
    // The oldest first: a Map iterates in insertion order.
    while (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { data, expiresAt: this.now() + maxAgeSeconds * 1000 });
  }
}
