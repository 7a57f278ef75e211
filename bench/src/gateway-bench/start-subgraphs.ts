/**
 * The public federation benchmark's four subgraphs, for profiling or trying a gateway by hand:
 *   node --import tsx bench/src/gateway-bench/start-subgraphs.ts [--port 4200] [--supergraph /tmp/bench-supergraph.graphql] [--no-cache]
 * Serves accounts, inventory, products and reviews at http://127.0.0.1:<port>/<name>/graphql, writes their composed
 * supergraph to --supergraph, and prints one JSON line saying where (what `pnpm bench gateway` waits for), then how
 * to start our gateway and send the TestQuery.
 */
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { serveBenchSubgraphs } from "./subgraphs/subgraph-server.js";
import { composeBenchSupergraph } from "./subgraphs/supergraph.js";

const { values } = parseArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "4200" },
    supergraph: { type: "string", default: join(tmpdir(), "kombify-bench-supergraph.graphql") },
    "no-cache": { type: "boolean", default: false },
    quiet: { type: "boolean", default: false },
  },
});

const server = await serveBenchSubgraphs({ host: values.host, port: Number(values.port), cacheByBody: !values["no-cache"] });
writeFileSync(values.supergraph, composeBenchSupergraph(server.urls));
process.stdout.write(`${JSON.stringify({ urls: server.urls, supergraphFile: values.supergraph, pid: process.pid })}\n`);
if (!values.quiet) {
  process.stdout.write(
    [
      "",
      `Subgraphs up (${values["no-cache"] ? "every request executed" : "identical request bodies answered from a per-body cache"}); supergraph in ${values.supergraph}.`,
      "Our gateway over them (development: no token issuer, anonymous callers):",
      `  NODE_ENV=development SUPERGRAPH_FILE=${values.supergraph} RATE_LIMIT_ANONYMOUS_PER_MINUTE=1000000000 DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\`,
      "  CONTEXT_SIGNING_KEY=\"$(node -e 'const {generateKeyPairSync}=require(\"crypto\");process.stdout.write(generateKeyPairSync(\"ed25519\").privateKey.export({type:\"pkcs8\",format:\"pem\"}))')\" \\",
      "  node --cpu-prof --import tsx gateway/src/main.ts",
      "The TestQuery: bench/src/gateway-bench/test-query.ts (TEST_QUERY_BODY).",
      "",
    ].join("\n"),
  );
}
const stop = () => {
  if (!values.quiet) process.stderr.write(`subgraphs: ${JSON.stringify(server.stats())}\n`);
  void server.stop().then(() => process.exit(0));
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
