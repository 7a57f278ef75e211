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
 * again on its next rejection.
 */
export class RejectedContexts {
  private rejected = 0;
  private audited = 0;
  private readonly sources = new Map<string, { windowEndsAt: number; suppressed: number }>();

  constructor(
    private readonly windowMs = 60_000,
    private readonly maxSources = 10_000,
    private readonly now: () => number = Date.now,
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
    if (this.sources.size >= this.maxSources) this.sources.delete(this.sources.keys().next().value!);
    this.sources.set(source, { windowEndsAt: now + this.windowMs, suppressed: 0 });
    this.audited += 1;
    return { audit: true, suppressed: seen?.suppressed ?? 0 };
  }

  get stats(): Omit<ContextMetrics, "refusedDirectCalls"> {
    return { rejectedContexts: this.rejected, auditedRejectedContexts: this.audited };
  }
}
