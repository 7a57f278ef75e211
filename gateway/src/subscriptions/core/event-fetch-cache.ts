import { LRUCache } from "lru-cache";
import type { SubgraphAnswer } from "../../execution/subgraph-client.js";

/** Longest a subgraph's answer is reused, whatever its Cache-Control says. */
const MAX_AGE_CAP_SECONDS = 300;

export interface EventFetchCacheLimits {
  /** Characters of keys and answers kept in all: the cache's memory bound. @default 16 MiB worth */
  maxChars: number;
  /** An answer (with its key) larger than this is not kept: it would crowd out the small ones that pay. @default 64 KiB worth */
  maxEntryChars: number;
}

/** How long an answer may be reused and by whom, from its Cache-Control; null when it may not be. */
export function reusePolicy(cacheControl: string | null | undefined): { maxAgeSeconds: number; shared: boolean } | null {
  if (!cacheControl) return null;
  const directives = cacheControl.toLowerCase().split(",").map((directive) => directive.trim());
  if (directives.includes("no-store") || directives.includes("no-cache")) return null;
  const maxAge = directives.find((directive) => directive.startsWith("max-age="));
  const seconds = maxAge ? Number(maxAge.slice("max-age=".length)) : Number.NaN;
  if (!Number.isInteger(seconds) || seconds <= 0) return null;
  // Only an explicit `public` is shared beyond one audience: tenant data must never leak through a cache.
  return { maxAgeSeconds: Math.min(seconds, MAX_AGE_CAP_SECONDS), shared: directives.includes("public") };
}

/**
 * Answers of other subgraphs reused across subscription events while the subgraph's own `Cache-Control` says
 * they are fresh (the StackKit catalog's, for a minute): a job's events all need the same kit, and fetching
 * it for every event cost the gateway a round trip per event and put another service's scheduling into
 * every event's latency. An answer without `max-age`, with `no-store`, or with errors is never reused, so
 * everything else is still fetched once per event. `private` answers (and those that do not say) are kept per
 * audience (tenant, plan and roles), the unit the hub already resolves events for: a group's every event is
 * resolved once, as its first subscriber, for all its members (see sharingAudience). Only `public` answers are
 * shared across audiences. Bounded by size (least recently used go first), not by count, since a client's
 * selection decides how large an answer is.
 */
export class EventFetchCache {
  private readonly entries: LRUCache<string, string>;
  private hits = 0;
  private misses = 0;

  constructor(limits: Partial<EventFetchCacheLimits> = {}, now?: () => number) {
    this.entries = new LRUCache<string, string>({
      maxSize: limits.maxChars ?? 16 * 1024 * 1024,
      maxEntrySize: limits.maxEntryChars ?? 64 * 1024,
      sizeCalculation: (data, key) => data.length + key.length,
      // Read the clock on every lookup (no cached "now"): a lookup is rare next to what an event costs.
      ttlResolution: 0,
      ...(now ? { perf: { now } } : {}),
    });
  }

  get stats() {
    return { entries: this.entries.size, chars: this.entries.calculatedSize, hits: this.hits, misses: this.misses };
  }

  /**
   * The answer to `body` at `subgraph` for an audience (see sharingAudience): the kept one while it is fresh,
   * else what `send` brings, kept if its Cache-Control allows and it has no errors. The answer is JSON text:
   * every reuse parses its own copy, because running a plan merges into what a fetch returns.
   */
  async fetch(subgraph: string, body: string, audience: string, send: () => Promise<SubgraphAnswer>): Promise<SubgraphAnswer> {
    const request = `${subgraph}\n${body}`;
    const reusable = this.entries.get(`${audience}\n${request}`) ?? this.entries.get(`*\n${request}`);
    if (reusable !== undefined) {
      this.hits += 1;
      return { text: reusable, cacheControl: undefined };
    }
    this.misses += 1;
    const answer = await send();
    const policy = reusePolicy(answer.cacheControl);
    if (policy && !answer.text.includes('"errors"')) {
      this.entries.set(`${policy.shared ? "*" : audience}\n${request}`, answer.text, { ttl: policy.maxAgeSeconds * 1000 });
    }
    return answer;
  }
}
