import type { Worker } from "node:cluster";

/**
 * Calls between the cluster's primary and its workers over the IPC channel node:cluster opens for each worker.
 * Every message of ours carries CHANNEL, so other users of the same channel (node:cluster's own, prom-client,
 * rate-limiter-flexible's cluster limiter) pass it by.
 */
const CHANNEL = "kombify:gateway-cluster";

/** What the primary asks of its workers, and what they tell it. */
export const WORKER_CALLS = {
  /** A worker serves (its gateway started); payload: `{ url }`. */
  ready: "worker.ready",
  /** The primary asks a worker for its metrics (a WorkerReading). */
  metrics: "worker.metrics",
} as const;

interface CallMessage {
  channel: typeof CHANNEL;
  kind: string;
  /** Absent for a notice, which gets no reply. */
  id?: number;
  payload: unknown;
}

interface ReplyMessage {
  channel: typeof CHANNEL;
  replyTo: number;
  reply?: unknown;
  error?: string;
}

type Message = CallMessage | ReplyMessage;

const isOurs = (message: unknown): message is Message => typeof message === "object" && message !== null && (message as Message).channel === CHANNEL;

/** The primary is gone (or the call took too long): the caller decides what that means for what it asked. */
export class ClusterCallFailed extends Error {}

type Handler = (...args: never[]) => unknown;

/** Call ids are unique in the process, whichever channel object made the call. */
let nextCallId = 1;

/**
 * Calls in flight from this side, each settled by the other side's reply, its timeout, or the channel closing.
 * A reply that comes after its call timed out goes to `late`, so the caller can give back what it was granted.
 */
class PendingCalls {
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void; timer: NodeJS.Timeout; late?: (reply: unknown) => void }>();
  private readonly timedOut = new Map<number, (reply: unknown) => void>();

  open<T>(send: (id: number) => boolean, timeoutMs: number, late?: (reply: T) => void): Promise<T> {
    const id = nextCallId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        if (late) this.timedOut.set(id, late as (reply: unknown) => void);
        reject(new ClusterCallFailed(`no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      if (!send(id)) this.fail(id, "the channel is closed");
    });
  }

  settle(message: ReplyMessage): void {
    const call = this.pending.get(message.replyTo);
    if (!call) {
      const late = this.timedOut.get(message.replyTo);
      this.timedOut.delete(message.replyTo);
      if (late && message.error === undefined) late(message.reply);
      return;
    }
    this.pending.delete(message.replyTo);
    clearTimeout(call.timer);
    if (message.error !== undefined) call.reject(new ClusterCallFailed(message.error));
    else call.resolve(message.reply);
  }

  failAll(reason: string): void {
    for (const id of [...this.pending.keys()]) this.fail(id, reason);
    this.timedOut.clear();
  }

  private fail(id: number, reason: string): void {
    const call = this.pending.get(id);
    if (!call) return;
    this.pending.delete(id);
    clearTimeout(call.timer);
    call.reject(new ClusterCallFailed(reason));
  }
}

/** Answers a call with its handler's result (or its error's message), unless it was a notice. */
async function answer(handlers: Map<string, Handler>, message: CallMessage, args: unknown[], reply: (message: ReplyMessage) => void): Promise<void> {
  const handler = handlers.get(message.kind);
  // Not this listener's to answer (another one in the process may be).
  if (!handler) return;
  try {
    const result = await (handler as (...all: unknown[]) => unknown)(...args, message.payload);
    if (message.id !== undefined) reply({ channel: CHANNEL, replyTo: message.id, reply: result });
  } catch (error) {
    if (message.id !== undefined) reply({ channel: CHANNEL, replyTo: message.id, error: (error as Error).message });
  }
}

let workerSide: PrimaryChannel | undefined;

/** This worker's one channel to the primary (made on first use). */
export function primaryChannel(): PrimaryChannel {
  workerSide ??= new PrimaryChannel();
  return workerSide;
}

/** A worker's side: calls to the primary, notices to it, and answers to the primary's calls. */
export class PrimaryChannel {
  private readonly calls = new PendingCalls();
  private readonly handlers = new Map<string, Handler>();

  constructor(private readonly process: NodeJS.Process = globalThis.process) {
    if (!process.send) throw new Error("A cluster worker's channel needs the IPC channel node:cluster gives each worker.");
    process.on("message", (message) => {
      if (!isOurs(message)) return;
      if ("replyTo" in message) this.calls.settle(message);
      else void answer(this.handlers, message, [], (reply) => this.send(reply));
    });
    process.once("disconnect", () => this.calls.failAll("the primary is gone"));
  }

  /** Asks the primary; rejects with ClusterCallFailed after `timeoutMs`, and hands a reply that comes later to `late`. */
  call<T>(kind: string, payload: unknown, options: { timeoutMs: number; late?: (reply: T) => void }): Promise<T> {
    return this.calls.open<T>((id) => this.send({ channel: CHANNEL, kind, id, payload }), options.timeoutMs, options.late);
  }

  /** Tells the primary something that needs no reply. */
  notify(kind: string, payload: unknown): void {
    this.send({ channel: CHANNEL, kind, payload });
  }

  /** What this worker answers when the primary calls `kind`. */
  answer<P>(kind: string, handler: (payload: P) => unknown): void {
    this.handlers.set(kind, handler as Handler);
  }

  private send(message: Message): boolean {
    if (!this.process.connected) return false;
    this.process.send!(message);
    return true;
  }
}

/** The primary's side: answers to its workers' calls and notices, and calls to one worker. */
export class WorkerChannels {
  private readonly calls = new Map<number, PendingCalls>();
  private readonly handlers = new Map<string, Handler>();

  /** Listens to `worker` (call once per forked worker); its calls in flight fail when it exits. */
  attach(worker: Worker): void {
    const calls = new PendingCalls();
    this.calls.set(worker.id, calls);
    worker.on("message", (message: unknown) => {
      if (!isOurs(message)) return;
      if ("replyTo" in message) calls.settle(message);
      else void answer(this.handlers, message, [worker], (reply) => worker.isConnected() && worker.send(reply));
    });
    worker.once("exit", () => {
      calls.failAll("the worker exited");
      this.calls.delete(worker.id);
    });
  }

  /** What the primary answers when a worker calls (or notifies) `kind`. */
  answer<P>(kind: string, handler: (worker: Worker, payload: P) => unknown): void {
    this.handlers.set(kind, handler as Handler);
  }

  call<T>(worker: Worker, kind: string, payload: unknown, timeoutMs: number): Promise<T> {
    const calls = this.calls.get(worker.id);
    if (!calls) return Promise.reject(new ClusterCallFailed("the worker exited"));
    return calls.open<T>(
      (id) => {
        if (!worker.isConnected()) return false;
        worker.send({ channel: CHANNEL, kind, id, payload } satisfies CallMessage);
        return true;
      },
      timeoutMs,
    );
  }
}
