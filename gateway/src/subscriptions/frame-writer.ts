import type { Duplex } from "node:stream";
import WebSocket from "ws";

/** Writers holding frames back until the end of this turn of the event loop, and whether a flush is due. */
const corked: FrameWriter[] = [];
let flushScheduled = false;

function flushAll(): void {
  flushScheduled = false;
  // Index loop: a flush that closes a socket cannot add writers to this turn's list, but stay safe if it does.
  for (let i = 0; i < corked.length; i++) corked[i]!.flush();
  corked.length = 0;
}

/** FIN + text opcode: every message here is one complete text frame. */
const FIN_TEXT = 0x81;

/**
 * Writes one connection's subscription messages: each a single unmasked WebSocket text frame built here in one
 * buffer, and all of those written in one turn of the event loop coalesced into one socket write.
 *
 * Why not `ws.send`: per delivered message it measures the string's UTF-8 length, allocates two option
 * objects, a header buffer and a two-chunk write, and its string chunks are encoded again in the write; at
 * 10,000 subscribers those, and one system call per message, were most of what the gateway thread spent per
 * event. Here a message is one allocation and two copies of bytes encoded once per group event. Under load
 * several events reach a socket in the same turn (events resolve in batches as subgraph answers arrive
 * together), so coalescing saves more as the load grows; a frame waits at most for the turn to end
 * (setImmediate), never for a timer.
 *
 * Writing frames to ws's own socket (`_socket`, on every ws 8 WebSocket) is safe because, without
 * per-message compression, ws writes every frame of its own (graphql-ws's `complete` and `error`, pings,
 * close) synchronously and whole, so frames never interleave and order is kept. Without that socket, or
 * once the WebSocket is no longer open, it falls back to `ws.send` (which reports a closed socket).
 */
export class FrameWriter {
  private readonly raw: Duplex | undefined;
  private isCorked = false;

  constructor(private readonly socket: WebSocket) {
    const raw = (socket as unknown as { _socket?: Duplex })._socket;
    this.raw = raw && typeof raw.cork === "function" && typeof raw.write === "function" ? raw : undefined;
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /**
   * One text message whose bytes are `head`, `body` and `tail` in that order (UTF-8). `written` runs once
   * the frame is handed to the kernel, or with an error if it never will be.
   */
  sendText(head: Buffer, body: Buffer, tail: Buffer, written: (error?: Error | null) => void): void {
    if (!this.raw || !this.isOpen) {
      this.socket.send(Buffer.concat([head, body, tail]), { binary: false }, written);
      return;
    }
    const length = head.length + body.length + tail.length;
    const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
    const frame = Buffer.allocUnsafe(headerLength + length);
    frame[0] = FIN_TEXT;
    if (headerLength === 2) frame[1] = length;
    else if (headerLength === 4) {
      frame[1] = 126;
      frame.writeUInt16BE(length, 2);
    } else {
      frame[1] = 127;
      frame.writeUInt32BE(0, 2);
      frame.writeUInt32BE(length, 6);
    }
    let offset = headerLength + head.copy(frame, headerLength);
    offset += body.copy(frame, offset);
    tail.copy(frame, offset);
    if (!this.isCorked) {
      this.raw.cork();
      this.isCorked = true;
      corked.push(this);
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flushAll);
      }
    }
    this.raw.write(frame, written);
  }

  /** Writes what this turn held back. */
  flush(): void {
    if (!this.isCorked) return;
    this.isCorked = false;
    this.raw!.uncork();
  }
}
