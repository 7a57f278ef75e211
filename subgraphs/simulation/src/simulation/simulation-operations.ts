/**
 * Runs the operations on one simulation one after another (create, start, stop, delete), while different
 * simulations proceed in parallel. Callers may stop waiting; the operation still finishes.
 */
export class SimulationOperations {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(simulationId: string, operation: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(simulationId) ?? Promise.resolve();
    const result = previous.catch(() => {}).then(operation);
    const tail = result.catch(() => {});
    this.tails.set(simulationId, tail);
    void tail.then(() => {
      if (this.tails.get(simulationId) === tail) this.tails.delete(simulationId);
    });
    return result;
  }

  isBusy(simulationId: string): boolean {
    return this.tails.has(simulationId);
  }

  /** Resolves once every operation started so far has finished. */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.all(this.tails.values());
  }
}

/** Waits for `operation` at most `ms`; it keeps running afterwards. Rejections inside the wait are rethrown. */
export async function waitAtMost(operation: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([operation, new Promise((resolve) => (timer = setTimeout(resolve, ms).unref()))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `work` over `items` with at most `limit` at once; resolves with each item's failure (or null). */
export async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<(Error | null)[]> {
  const failures: (Error | null)[] = items.map(() => null);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      try {
        await work(items[index]!);
      } catch (error) {
        failures[index] = error instanceof Error ? error : new Error(String(error));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return failures;
}
