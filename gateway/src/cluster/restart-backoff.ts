export interface RestartBackoffOptions {
  /** The wait before replacing a worker that died after a stable run. @default 250 */
  firstDelayMs?: number;
  /** The longest wait, however often a worker dies. @default 30000 */
  maxDelayMs?: number;
  /** A worker that ran this long before dying was stable: its slot's wait starts over. @default 60000 */
  stableAfterMs?: number;
}

/**
 * How long to wait before replacing a worker that died, per slot: the first time a short wait, then twice as
 * long for each death in a row of a worker that did not run stably, up to a ceiling. A worker that cannot live
 * (a subgraph's address that never resolves, a full disk) is retried ever more slowly instead of in a tight loop
 * that would starve the workers that do live.
 */
export class RestartBackoff {
  private readonly streaks = new Map<number, number>();
  private readonly firstDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly stableAfterMs: number;

  constructor(options: RestartBackoffOptions = {}) {
    this.firstDelayMs = options.firstDelayMs ?? 250;
    this.maxDelayMs = options.maxDelayMs ?? 30_000;
    this.stableAfterMs = options.stableAfterMs ?? 60_000;
  }

  /** The wait before replacing the worker of `slot`, which ran `ranMs` before it died. */
  delayAfterDeath(slot: number, ranMs: number): number {
    const streak = ranMs >= this.stableAfterMs ? 0 : (this.streaks.get(slot) ?? 0);
    this.streaks.set(slot, streak + 1);
    return Math.min(this.firstDelayMs * 2 ** streak, this.maxDelayMs);
  }
}
