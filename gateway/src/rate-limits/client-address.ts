import type { IncomingMessage } from "node:http";
import { BlockList, isIP } from "node:net";

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) as `10.0.0.1`; anything else as it is. */
function normalise(address: string): string {
  return address.startsWith("::ffff:") && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/**
 * The address an anonymous budget is kept by: an IPv4 address as it is, an IPv6 one by its /64, the block one
 * host is given (one machine holds a whole /64 and could otherwise count as billions of callers).
 */
export function budgetAddress(address: string): string {
  if (isIP(address) !== 6) return address;
  const [head = "", tail = ""] = address.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = address.includes("::") ? [...left, ...Array(8 - left.length - right.length).fill("0"), ...right] : left;
  return `${groups.slice(0, 4).map((group) => Number.parseInt(group || "0", 16).toString(16)).join(":")}::/64`;
}

/**
 * Who an anonymous caller is, for its rate limit: the address of the socket's peer, unless that peer is a proxy
 * this gateway was told to trust (TRUSTED_PROXIES); then the `X-Forwarded-For` entry the nearest untrusted hop
 * added, read from the right (the left end is whatever the client wrote, and a client could name anyone there).
 * Without trusted proxies the header is ignored: any client could send one to pose as many.
 */
export class ClientAddresses {
  private readonly trusted = new BlockList();
  private readonly any: boolean;

  constructor(trustedProxies: readonly string[]) {
    for (const entry of trustedProxies) {
      const [address, prefix] = entry.split("/") as [string, string | undefined];
      const type = isIP(address) === 6 ? "ipv6" : "ipv4";
      if (prefix === undefined) this.trusted.addAddress(normalise(address), type);
      else this.trusted.addSubnet(address, Number(prefix), type);
    }
    this.any = trustedProxies.length > 0;
  }

  of(req: IncomingMessage): string {
    const peer = normalise(req.socket.remoteAddress ?? "unknown");
    if (!this.any || !this.isTrusted(peer)) return peer;
    const header = req.headers["x-forwarded-for"];
    const hops = (Array.isArray(header) ? header.join(",") : (header ?? "")).split(",").map((hop) => normalise(hop.trim()));
    let nearest = peer;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i]!;
      // A hop that is no address means a proxy wrote something odd: the last trusted one is the best we know.
      if (isIP(hop) === 0) return nearest;
      if (!this.isTrusted(hop)) return hop;
      nearest = hop;
    }
    return nearest;
  }

  private isTrusted(address: string): boolean {
    const family = isIP(address);
    return family !== 0 && this.trusted.check(address, family === 6 ? "ipv6" : "ipv4");
  }
}
