import type { FrameWriter } from "./frame-writer.js";
import type { GroupSubscriber } from "../core/subscription-hub.js";

const CLOSE_MESSAGE = Buffer.from("}");

/**
 * One graphql-ws subscription whose events the hub writes straight to the client's connection. The hub
 * serialises each event's result once for its whole group (UTF-8 JSON); here it only becomes this
 * subscription's `{"id":…,"type":"next","payload":…}` message, its id part encoded once per subscription, and
 * goes to the connection's FrameWriter: no JSON.stringify, no promise chain and no async iteration per
 * subscriber, which is what capped one gateway thread at 10,000 subscribers.
 *
 * To graphql-ws it is the subscription's async iterator: it yields nothing and settles when the stream
 * ends, whereupon graphql-ws sends `complete` (or `error`). Those go through the same socket after every
 * `next` written here, so the protocol's order holds. A client's `complete`, or the socket closing, calls
 * `return()`, which leaves the group at once.
 *
 * Bounded like the queue it replaces: at most `capacity` of this subscription's frames may wait in the
 * socket's buffers (written, not yet taken by the kernel). The next event beyond that cuts off this
 * subscription alone with `overflowError`, sent after what is buffered; the group's other subscribers are
 * not slowed, and the socket holds no more of this subscription's events than the capacity.
 */
export class SocketSubscription implements GroupSubscriber, AsyncIterableIterator<never> {
  /** `{"id":<id>,"type":"next","payload":`, encoded once. */
  private readonly prefix: Buffer;
  /** Frames handed to the socket whose write has not completed yet. */
  private unflushed = 0;
  private closed = false;
  /** How the stream ended, for a `next()` that comes after: undefined while open, null when completed. */
  private outcome: Error | null | undefined;
  private waiting: { resolve: (result: IteratorResult<never>) => void; reject: (error: Error) => void } | null = null;
  /** One callback for all of this subscription's writes: no closure per message. */
  private readonly written = () => {
    this.unflushed -= 1;
  };

  constructor(
    private readonly socket: FrameWriter,
    id: string,
    /** Runs once when the stream ends, however it ends (the hub's leave, the connection's limits). */
    private readonly onClose: () => void,
    private readonly capacity = 1000,
    private readonly overflowError: () => Error = () => new Error("The consumer fell too far behind."),
  ) {
    this.prefix = Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":`);
  }

  send(payload: Buffer): void {
    if (this.closed) return;
    if (this.unflushed >= this.capacity) {
      this.finish(this.overflowError());
      return;
    }
    // A socket on its way out: graphql-ws returns this iterator once it has closed.
    if (!this.socket.isOpen) return;
    this.unflushed += 1;
    this.socket.sendText(this.prefix, payload, CLOSE_MESSAGE, this.written);
  }

  /** Completes the stream after what has been sent. */
  end(): void {
    this.finish(null);
  }

  /** Ends the stream with `error` after what has been sent (its own token expired, say); graphql-ws sends it as `error`. */
  fail(error: Error): void {
    this.finish(error);
  }

  next(): Promise<IteratorResult<never>> {
    if (this.outcome === undefined) {
      return new Promise((resolve, reject) => {
        this.waiting = { resolve, reject };
      });
    }
    if (this.outcome === null) return Promise.resolve({ value: undefined, done: true });
    const error = this.outcome;
    this.outcome = null;
    return Promise.reject(error);
  }

  return(): Promise<IteratorResult<never>> {
    this.finish(null);
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<never>> {
    this.finish(null);
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<never> {
    return this;
  }

  private finish(outcome: Error | null): void {
    if (this.closed) return;
    this.closed = true;
    this.outcome = outcome;
    const waiting = this.waiting;
    this.waiting = null;
    this.onClose();
    if (!waiting) return;
    if (outcome) {
      this.outcome = null;
      waiting.reject(outcome);
    } else waiting.resolve({ value: undefined, done: true });
  }
}
