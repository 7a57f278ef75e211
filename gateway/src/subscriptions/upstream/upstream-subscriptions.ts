import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import type { Logger } from "@kombify/service-core/logging";
import type { UpstreamRequest, UpstreamSink, UpstreamSource } from "../core/upstream-source.js";

/**
 * One graphql-ws connection per subgraph, multiplexing every upstream subscription of this gateway process
 * (each carries its own signed tenant context in `extensions`). Counts what is open, for /metrics and tests.
 */
export class UpstreamSubscriptions implements UpstreamSource {
  private readonly clients = new Map<string, Client>();
  private open = 0;

  constructor(
    private readonly urls: Record<string, string>,
    private readonly log: Logger,
  ) {}

  get count(): number {
    return this.open;
  }

  subscribe(
    subgraph: string,
    request: UpstreamRequest,
    sink: UpstreamSink,
  ): () => void {
    const client = this.clientFor(subgraph);
    this.open += 1;
    let closed = false;
    const finish = () => {
      if (closed) return;
      closed = true;
      this.open -= 1;
    };
    const unsubscribe = client.subscribe(request, {
      next: (result) => sink.next(result),
      error: (error) => {
        finish();
        sink.error(error);
      },
      complete: () => {
        finish();
        sink.complete();
      },
    });
    return () => {
      if (closed) return;
      finish();
      unsubscribe();
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((client) => client.dispose()));
    this.clients.clear();
  }

  private clientFor(subgraph: string): Client {
    let client = this.clients.get(subgraph);
    if (!client) {
      const url = this.urls[subgraph];
      if (!url) throw new Error(`No URL for subgraph ${subgraph}`);
      client = createClient({
        url: url.replace(/^http/, "ws"),
        webSocketImpl: WebSocket,
        lazy: true,
        // Keep the socket a while after the last subscription ends, rather than close and reopen it as
        // subscribers come and go.
        lazyCloseTimeout: 60_000,
        keepAlive: 10_000,
        // A handshake the subgraph does not acknowledge is retried, then reported: never a silent stall.
        connectionAckWaitTimeout: 10_000,
        retryAttempts: 5,
        shouldRetry: () => true,
        on: { closed: (event) => this.log.debug({ subgraph, code: (event as { code?: number }).code }, "upstream subscription socket closed") },
      });
      this.clients.set(subgraph, client);
    }
    return client;
  }
}
