import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { execute, parse, validate, type DocumentNode, type GraphQLSchema } from "graphql";
import { benchSubgraphs, type BenchSubgraphName } from "./schemas.js";

export interface BenchSubgraphsServer {
  /** Each subgraph's GraphQL endpoint, `http://host:port/<name>/graphql`. */
  urls: Record<BenchSubgraphName, string>;
  stats(): { requests: number; executed: number };
  stop(): Promise<void>;
}

export interface BenchSubgraphsOptions {
  host?: string;
  /** 0: any free port. */
  port?: number;
  /**
   * Answer a request body seen before with the bytes answered then (the data never changes), so that the subgraphs,
   * which share a core with the load generator, stay far from being the bottleneck and the benchmark measures the
   * gateways. Off: every request is parsed and executed. @default true
   */
  cacheByBody?: boolean;
}

/** Distinct bodies (and documents) kept; a gateway sends a few dozen, so this only bounds a misbehaving one. */
const MAX_CACHED_BODIES = 10_000;

/**
 * The four benchmark subgraphs on one lean node:http listener, one path each (`POST /accounts/graphql`, …), with
 * `GET …/ready` and `GET …/health` answering 200 for the gateways' readiness checks, and `GET /stats` counting requests.
 */
export async function serveBenchSubgraphs(options: BenchSubgraphsOptions = {}): Promise<BenchSubgraphsServer> {
  const cacheByBody = options.cacheByBody ?? true;
  const schemas = new Map<string, GraphQLSchema>(benchSubgraphs().map((subgraph) => [subgraph.name, subgraph.schema]));
  const documents = new Map<string, { document: DocumentNode; errors: readonly Error[] }>();
  const answers = new Map<string, Buffer>();
  let requests = 0;
  let executed = 0;

  async function answer(schema: GraphQLSchema, body: string): Promise<Buffer> {
    let request: { query?: unknown; variables?: Record<string, unknown>; operationName?: string };
    try {
      request = JSON.parse(body);
    } catch {
      return Buffer.from(JSON.stringify({ errors: [{ message: "The body is not JSON." }] }));
    }
    if (typeof request.query !== "string") return Buffer.from(JSON.stringify({ errors: [{ message: "No query." }] }));
    let parsed = documents.get(request.query);
    if (!parsed) {
      try {
        const document = parse(request.query);
        parsed = { document, errors: validate(schema, document) };
      } catch (error) {
        parsed = { document: { kind: "Document", definitions: [] } as unknown as DocumentNode, errors: [error as Error] };
      }
      if (documents.size >= MAX_CACHED_BODIES) documents.clear();
      documents.set(request.query, parsed);
    }
    if (parsed.errors.length > 0) return Buffer.from(JSON.stringify({ errors: parsed.errors.map((error) => ({ message: error.message })) }));
    executed += 1;
    // @apollo/subgraph's _entities answers with a promise even where every reference resolves at once.
    const result = await execute({ schema, document: parsed.document, variableValues: request.variables, operationName: request.operationName });
    return Buffer.from(JSON.stringify(result));
  }

  function send(res: ServerResponse, status: number, body: Buffer | string) {
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body) });
    res.end(body);
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? "/";
    if (req.method === "GET" && /\/(ready|health)$/.test(path)) return send(res, 200, '{"status":"ok"}');
    // What the benchmark divides by the gateway's requests: subgraph fetches per request.
    if (req.method === "GET" && path === "/stats") return send(res, 200, JSON.stringify({ requests, executed }));
    const name = /^\/([a-z]+)\/graphql$/.exec(path)?.[1];
    const schema = name ? schemas.get(name) : undefined;
    if (!schema || req.method !== "POST") return send(res, 404, '{"errors":[{"message":"POST /<subgraph>/graphql"}]}');
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      requests += 1;
      const body = Buffer.concat(chunks).toString("utf8");
      const key = `${name}\n${body}`;
      const cached = cacheByBody ? answers.get(key) : undefined;
      if (cached) return send(res, 200, cached);
      answer(schema, body).then(
        (bytes) => {
          if (cacheByBody) {
            if (answers.size >= MAX_CACHED_BODIES) answers.clear();
            answers.set(key, bytes);
          }
          send(res, 200, bytes);
        },
        (error: Error) => send(res, 500, JSON.stringify({ errors: [{ message: error.message }] })),
      );
    });
  });
  // Longer than any gateway's pool keeps an idle connection, so no gateway meets a connection closed under it.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 125_000;
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const urls = Object.fromEntries([...schemas.keys()].map((name) => [name, `http://${host}:${port}/${name}/graphql`])) as Record<BenchSubgraphName, string>;
  return {
    urls,
    stats: () => ({ requests, executed }),
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
