import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Pool, request } from "undici";
import type { Caller } from "@kombify/service-core/auth";
import { REQUEST_ID_HEADER } from "@kombify/service-core/http";
import { operationHash, TENANT_CONTEXT_HEADER, type TenantContextSigner } from "@kombify/service-core/tenant-context";
import { outcomeOf, type Outcome } from "./load.js";

interface Prepared {
  requestId: string;
  contexts: string[];
}

/** One subgraph request a gateway made for an operation, and when, relative to the operation's other fetches. */
export interface RecordedFetch {
  subgraph: string;
  url: string;
  body: string;
  query: string;
  startedAt: number;
  endedAt: number;
}

/**
 * A pass-through proxy in front of each subgraph that writes down every GraphQL request a gateway sends through it,
 * so that the fetches of one operation can be replayed straight to the subgraphs without the gateway.
 */
export async function startRecordingProxies(subgraphs: Record<string, string>) {
  const recorded: RecordedFetch[] = [];
  const servers: Server[] = [];
  const urls: Record<string, string> = {};
  for (const [subgraph, target] of Object.entries(subgraphs)) {
    const targetUrl = new URL(target);
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        const startedAt = performance.now();
        const headers = Object.fromEntries(Object.entries(req.headers).filter(([name]) => !["host", "connection", "content-length", "transfer-encoding"].includes(name))) as Record<string, string>;
        request(new URL(req.url ?? "/", targetUrl.origin), { method: req.method as "GET", headers, body: req.method === "POST" ? body : undefined })
          .then(async (response) => {
            const answer = Buffer.from(await response.body.arrayBuffer());
            if (req.method === "POST") {
              const text = body.toString("utf8");
              recorded.push({ subgraph, url: target, body: text, query: (JSON.parse(text) as { query: string }).query, startedAt, endedAt: performance.now() });
            }
            const contentType = response.headers["content-type"];
            res.writeHead(response.statusCode, contentType ? { "content-type": String(contentType) } : {});
            res.end(answer);
          })
          .catch((error: Error) => {
            res.writeHead(502);
            res.end(error.message);
          });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    servers.push(server);
    urls[subgraph] = `http://127.0.0.1:${(server.address() as AddressInfo).port}${targetUrl.pathname}`;
  }
  return {
    /** Each subgraph's proxy URL, by subgraph name. */
    urls,
    /** What was recorded since the last take, in the order requests were sent. */
    take(): RecordedFetch[] {
      return recorded.splice(0).sort((a, b) => a.startedAt - b.startedAt);
    },
    async stop() {
      for (const server of servers) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  };
}

/**
 * The recorded fetches sent again straight to the subgraphs, with the order the gateway gave them: a fetch waits for
 * every fetch that had ended before the gateway started it (its plan's dependencies, and no more than the gateway
 * waited for), and the others run side by side. Each carries a tenant context signed for its subgraph and operation,
 * fresh for every replay as the gateway's are (so the subgraphs verify each), but signed before the replay's clock
 * starts: the floor is the subgraph calls alone.
 */
export class DirectReplay {
  private readonly dependencies: number[][];
  private readonly pools = new Map<string, Pool>();
  private replays = 0;

  constructor(
    private readonly fetches: RecordedFetch[],
    private readonly signer: TenantContextSigner,
    private readonly caller: Caller,
    connections: number,
  ) {
    this.dependencies = fetches.map((fetch) => fetches.flatMap((other, index) => (other.endedAt <= fetch.startedAt ? [index] : [])));
    for (const fetch of fetches) {
      const origin = new URL(fetch.url).origin;
      if (!this.pools.has(origin)) this.pools.set(origin, new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 60_000 }));
    }
  }

  /** The fetches' structure, for the report: `tenant → stack + billing → stackkit`. */
  describe(): string {
    const waves: string[][] = [];
    const waveOf = this.fetches.map(() => 0);
    this.fetches.forEach((fetch, index) => {
      waveOf[index] = Math.max(-1, ...this.dependencies[index]!.map((dependency) => waveOf[dependency]!)) + 1;
      (waves[waveOf[index]!] ??= []).push(fetch.subgraph);
    });
    return waves.map((wave) => wave.join(" + ")).join(" → ");
  }

  /** One replay's contexts and request id (untimed: the gateway's signing is its own work, not the subgraphs'). */
  async prepare(): Promise<Prepared> {
    const requestId = `bench-direct-${(this.replays += 1)}`;
    return { requestId, contexts: await Promise.all(this.fetches.map((fetch) => this.signer.sign(this.caller, requestId, fetch.subgraph, operationHash(fetch.query)))) };
  }

  async once(prepared: Prepared): Promise<Outcome> {
    const outcomes: Promise<Outcome>[] = [];
    const run = (index: number): Promise<Outcome> =>
      (outcomes[index] ??= Promise.all(this.dependencies[index]!.map(run)).then(async (before) => before.find(Boolean) ?? this.send(index, prepared)));
    const results = await Promise.all(this.fetches.map((_, index) => run(index)));
    return results.find(Boolean) ?? null;
  }

  private async send(index: number, prepared: Prepared): Promise<Outcome> {
    const fetch = this.fetches[index]!;
    const url = new URL(fetch.url);
    const response = await this.pools.get(url.origin)!.request({
      path: url.pathname,
      method: "POST",
      headers: { "content-type": "application/json", [TENANT_CONTEXT_HEADER]: prepared.contexts[index]!, [REQUEST_ID_HEADER]: prepared.requestId },
      body: fetch.body,
    });
    return outcomeOf(response.statusCode, Buffer.from(await response.body.arrayBuffer()));
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((pool) => pool.close()));
  }
}
