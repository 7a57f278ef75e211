import net from "node:net";
import type { Logger } from "@kombify/service-core/logging";

interface Forward {
  server: net.Server;
  target: string;
  sockets: Set<net.Socket>;
}

/**
 * Publishes each running node's SSH port: listens on its allocated host port and pipes connections to port 22
 * of the container on the tenant's network. Docker cannot publish ports of containers on an internal network,
 * and tenant networks are internal (no route out, no route to other tenants), so this is our userland proxy,
 * the same thing docker-proxy would be.
 */
export class SshForwarder {
  private readonly forwards = new Map<number, Forward>();
  private readonly opening = new Map<number, Promise<void>>();

  constructor(
    private readonly bindHost: string,
    private readonly log: Logger,
    /**
     * Whether a connection's source is a simulated node. Those are refused: tenant networks reach the host, so
     * with a non-loopback bind another tenant's container could otherwise come in through the forwarder.
     * Nodes reach their own neighbours directly on their network.
     */
    private readonly fromSimulatedNode: (address: string) => Promise<boolean>,
  ) {}

  /** Starts forwarding `port` to `targetIp:22` (re-targets an existing forward). Fails when the port is taken. */
  async open(port: number, targetIp: string): Promise<void> {
    // Provisioning and the engine's start event may open the same port at once: the second waits for the first.
    for (let pending = this.opening.get(port); pending; pending = this.opening.get(port)) await pending.catch(() => {});
    const existing = this.forwards.get(port);
    if (existing) {
      existing.target = targetIp;
      return;
    }
    const opening = this.listen(port, targetIp).finally(() => this.opening.delete(port));
    this.opening.set(port, opening);
    await opening;
  }

  private async listen(port: number, targetIp: string): Promise<void> {
    const forward: Forward = { server: net.createServer(), target: targetIp, sockets: new Set() };
    forward.server.on("connection", (client) => this.pipe(forward, client));
    await new Promise<void>((resolve, reject) => {
      forward.server.once("error", reject);
      forward.server.listen(port, this.bindHost, () => {
        forward.server.off("error", reject);
        resolve();
      });
    });
    forward.server.on("error", (error) => this.log.warn({ err: error, port }, "ssh forward failed"));
    this.forwards.set(port, forward);
  }

  /** Stops listening on `port` and drops its open connections. */
  async close(port: number): Promise<void> {
    const forward = this.forwards.get(port);
    if (!forward) return;
    this.forwards.delete(port);
    for (const socket of forward.sockets) socket.destroy();
    await new Promise<void>((resolve) => forward.server.close(() => resolve()));
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.forwards.keys()].map((port) => this.close(port)));
  }

  private pipe(forward: Forward, client: net.Socket): void {
    client.pause();
    forward.sockets.add(client);
    const source = (client.remoteAddress ?? "").replace(/^::ffff:/, "");
    const loopback = source === "127.0.0.1" || source === "::1";
    void (loopback ? Promise.resolve(false) : this.fromSimulatedNode(source)).then(
      (refused) => {
        if (refused) {
          this.log.warn({ source, port: forward.server.address() }, "refused a simulated node's connection to another node's SSH port");
          forward.sockets.delete(client);
          client.destroy();
          return;
        }
        this.connectUpstream(forward, client);
      },
      () => {
        forward.sockets.delete(client);
        client.destroy();
      },
    );
  }

  private connectUpstream(forward: Forward, client: net.Socket): void {
    if (client.destroyed) return;
    const upstream = net.connect(22, forward.target);
    forward.sockets.add(client).add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      forward.sockets.delete(client);
      forward.sockets.delete(upstream);
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  }
}
