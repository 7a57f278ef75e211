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

/** An unmasked text frame's header for a payload of `length` bytes, `headerLength` (2, 4 or 10) bytes long. */
function writeHeader(target: Buffer, length: number, headerLength: number): void {
  target[0] = FIN_TEXT;
  if (headerLength === 2) target[1] = length;
  else if (headerLength === 4) {
    target[1] = 126;
    target.writeUInt16BE(length, 2);
  } else {
    target[1] = 127;
    target.writeUInt32BE(0, 2);
    target.writeUInt32BE(length, 6);
  }
}

/**
 * Writes one connection's subscription messages: each a single unmasked WebSocket text frame built here in one
 * buffer, and all of those written in one turn of the event loop coalesced into one socket write.
 *
 * Why not `ws.send`: per delivered message it measures the string's UTF-8 length, allocates two option
 * objects, a header buffer and a two-chunk write, and its string chunks are encoded again in the write; at
 * 10,000 subscribers those, and one system call per message, were most of what the gateway thread spent per
 * event. Here a message is one allocation and two copies of bytes encoded once per group event (for a socket
 * whose client is not keeping up, no copy of the event at all: see sendText). Under load several events
 * reach a socket in the same turn (events resolve in batches as subgraph answers arrive together), so
 * coalescing saves more as the load grows; a frame waits at most for the turn to end (setImmediate), never
 * for a timer.
 *
 * Writing frames to ws's own socket (`_socket`, on every ws 8 WebSocket) is safe because, without
 * per-message compression, ws writes every frame of its own (graphql-ws's `complete` and `error`, pings,
 * close) synchronously and whole, so frames never interleave and order is kept. Without that socket, or
 * once the WebSocket is no longer open, it falls back to `ws.send` (which reports a closed socket).
 */
export class FrameWriter {
  private readonly raw: Duplex | undefined;
  private isCorked = false;
  /** Whether the last flush left bytes the kernel did not take: a client not reading, or reading slowly. */
  private backlogged = false;

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
    if (!this.isCorked) {
      this.raw.cork();
      this.isCorked = true;
      corked.push(this);
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flushAll);
      }
    }
    if (this.backlogged) {
      // The kernel is not taking this socket's bytes, so what is written now will wait: hold the body that
      // the group shares rather than a copy, and the rest in a buffer of its own size (a pooled one would keep
      // a whole 8 KB pool slab alive per waiting frame).
      const start = Buffer.allocUnsafeSlow(headerLength + head.length);
      writeHeader(start, length, headerLength);
      head.copy(start, headerLength);
      this.raw.write(start);
      this.raw.write(body);
      this.raw.write(tail, written);
      return;
    }
    const frame = Buffer.allocUnsafe(headerLength + length);
    writeHeader(frame, length, headerLength);
    let offset = headerLength + head.copy(frame, headerLength);
    offset += body.copy(frame, offset);
    tail.copy(frame, offset);
    this.raw.write(frame, written);
  }

  /** Writes what this turn held back, and notes whether the kernel left some of it waiting. */
  flush(): void {
    if (!this.isCorked) return;
    this.isCorked = false;
    this.raw!.uncork();
    this.backlogged = this.raw!.writableLength > 0;
  }
}
