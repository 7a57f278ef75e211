import type { Duplex } from "node:stream";
import WebSocket from "ws";

/** Writers holding frames back until the end of this turn of the event loop, and whether a flush is due. */
const corked: FrameWriter[] = [];
let flushScheduled = false;

function flushAll(): void {
  flushScheduled = false;
  // Uncorking writes; a write can fail and close a socket, but nothing it triggers corks again in this loop.
  for (let i = 0; i < corked.length; i++) corked[i]!.flush();
  corked.length = 0;
}

/**
 * Sends one connection's subscription frames, coalescing those written in one turn of the event loop into one
 * socket write. Each message otherwise costs a system call of its own, which at 10,000 subscribers is most of
 * what the gateway thread spends per delivered event; under load several events reach a socket in the same
 * turn (events resolve in batches as subgraph answers arrive together), so the saving grows with the load. A
 * frame waits at most until the turn ends (setImmediate), not for a timer.
 *
 * Messages stay separate WebSocket messages, in order, with whatever graphql-ws or ws itself sends in between
 * (complete, error, pings): corking only delays the socket write. It uses ws's underlying socket (`_socket`,
 * present on every ws 8 WebSocket); without one it just sends.
 */
export class FrameWriter {
  private readonly raw: Duplex | undefined;
  private isCorked = false;

  constructor(private readonly socket: WebSocket) {
    const raw = (socket as unknown as { _socket?: Duplex })._socket;
    this.raw = raw && typeof raw.cork === "function" ? raw : undefined;
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** One text message; `written` runs once it is handed to the kernel (or with an error if it never is). */
  send(data: string, written: (error?: Error) => void): void {
    if (this.raw && !this.isCorked) {
      this.raw.cork();
      this.isCorked = true;
      corked.push(this);
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flushAll);
      }
    }
    this.socket.send(data, written);
  }

  /** Writes what this turn held back. */
  flush(): void {
    if (!this.isCorked) return;
    this.isCorked = false;
    this.raw!.uncork();
  }
}
