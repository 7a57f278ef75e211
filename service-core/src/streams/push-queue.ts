/**
 * An async iterator fed by pushes, bounded so a slow consumer cannot hold unbounded memory. Written by
 * hand because an `async function*` wrapper only runs its `finally` when the next value arrives: `return()`
 * here settles a pending `next()` and runs `onClose` at once, so upstream subscriptions end when the client
 * leaves.
 */
export class PushQueue<T> implements AsyncIterableIterator<T> {
  private readonly buffer: T[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | null = null;
  private failure: Error | null = null;
  private closed = false;
  private ending = false;

  constructor(
    private readonly onClose: () => void,
    /** Values held for a consumer that is not reading; beyond it the queue fails with `overflowError`. */
    private readonly capacity = 1000,
    private readonly overflowError: () => Error = () => new Error("The consumer fell too far behind."),
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  /** Values pushed but not yet read. */
  get size(): number {
    return this.buffer.length;
  }

  /** Completes the stream once what is buffered has been read. */
  end(): void {
    if (this.buffer.length === 0) this.close();
    else this.ending = true;
  }

  push(value: T): void {
    if (this.closed || this.ending) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value, done: false });
      return;
    }
    if (this.buffer.length >= this.capacity) {
      this.fail(this.overflowError());
      return;
    }
    this.buffer.push(value);
  }

  /** Ends the stream with an error for the consumer (after what is buffered). */
  fail(error: Error): void {
    if (this.closed) return;
    this.failure = error;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      this.close();
      resolve(Promise.reject(error) as never);
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.buffer.length > 0) return Promise.resolve({ value: this.buffer.shift()!, done: false });
    if (this.failure) {
      const error = this.failure;
      this.close();
      return Promise.reject(error);
    }
    if (this.closed || this.ending) {
      this.close();
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    this.close();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.buffer.length = 0;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: undefined, done: true });
    }
    this.onClose();
  }
}
