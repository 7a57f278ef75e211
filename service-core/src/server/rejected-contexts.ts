/** What a subgraph's GET /metrics.json says about contexts it rejected and direct calls it refused. */
export interface ContextMetrics {
  /** Contexts presented but not verified (forged, expired, for another subgraph or another operation). */
  rejectedContexts: number;
  /** How many of those were written to the audit log. */
  auditedRejectedContexts: number;
  /** Operations refused because they asked a direct caller for the schema or entities. */
  refusedDirectCalls: number;
}

/**
 * Rejected contexts are all counted, but audited at most once per window per source (remote address): anyone who
 * can reach a subgraph can send garbage contexts, and an audit row each would let them grow the audit table at
 * will. The next row from a source says how many went unaudited before it. Sources are kept in memory, least
 * recently seen dropped first beyond `maxSources`, so memory is bounded too; a dropped source is simply audited
 * again on its next rejection. Sources are cheap to have (any local process can bind 127.0.0.0/8, an IPv6 host
 * a whole prefix), so the rows of all sources together are capped per window as well (`maxAuditsPerWindow`).
 */
export class RejectedContexts {
  private rejected = 0;
  private audited = 0;
  private readonly sources = new Map<string, { windowEndsAt: number; suppressed: number }>();
  private overall = { windowEndsAt: 0, audited: 0 };

  constructor(
    private readonly windowMs = 60_000,
    private readonly maxSources = 10_000,
    private readonly now: () => number = Date.now,
    private readonly maxAuditsPerWindow = 60,
  ) {}

  /** Counts one rejection from `source`; says whether to audit it and how many from there went unaudited before. */
  record(source: string): { audit: boolean; suppressed: number } {
    this.rejected += 1;
    const now = this.now();
    const seen = this.sources.get(source);
    // Re-inserted on every rejection, so the Map's order is least recently seen first.
    this.sources.delete(source);
    if (seen && seen.windowEndsAt > now) {
      seen.suppressed += 1;
      this.sources.set(source, seen);
      return { audit: false, suppressed: seen.suppressed };
    }
    if (this.overall.windowEndsAt <= now) this.overall = { windowEndsAt: now + this.windowMs, audited: 0 };
    if (this.overall.audited >= this.maxAuditsPerWindow) {
      // Counted against the source as suppressed, so its next audited row still says how many went unrecorded.
      this.sources.set(source, { windowEndsAt: seen?.windowEndsAt ?? now, suppressed: (seen?.suppressed ?? 0) + 1 });
      return { audit: false, suppressed: (seen?.suppressed ?? 0) + 1 };
    }
    if (this.sources.size >= this.maxSources) this.sources.delete(this.sources.keys().next().value!);
    this.sources.set(source, { windowEndsAt: now + this.windowMs, suppressed: 0 });
    this.overall.audited += 1;
    this.audited += 1;
    return { audit: true, suppressed: seen?.suppressed ?? 0 };
  }

  get stats(): Omit<ContextMetrics, "refusedDirectCalls"> {
    return { rejectedContexts: this.rejected, auditedRejectedContexts: this.audited };
  }
}
