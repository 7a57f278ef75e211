/**
 * Writes a running step's log lines to the job while the step runs, at most one write in flight and at most one
 * per `intervalMs`, so a dashboard sees output as it comes without a write per line. `settle` waits for the last
 * write; the runner's own update after the step then carries everything.
 */
export class LogFlusher {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;
  private settled = false;

  constructor(
    private readonly write: () => Promise<void>,
    private readonly onError: (error: unknown) => void,
    private readonly intervalMs = 250,
  ) {}

  /** Lines were added: write them soon. */
  changed(): void {
    this.dirty = true;
    if (this.timer || this.settled) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.dirty || this.settled) return;
      this.dirty = false;
      this.writing = this.writing.then(this.write).catch(this.onError);
      void this.writing.then(() => {
        if (this.dirty) this.changed();
      });
    }, this.intervalMs);
  }

  /** No more writes from here; resolves once the one in flight is done. */
  async settle(): Promise<void> {
    this.settled = true;
    clearTimeout(this.timer);
    await this.writing;
  }
}
