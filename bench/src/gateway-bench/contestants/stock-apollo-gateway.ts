/**
 * Stock @apollo/gateway on @apollo/server 5 with their defaults, as the public benchmark runs it and as a new user
 * would: `SUPERGRAPH_FILE=… PORT=… node --import tsx bench/src/gateway-bench/contestants/stock-apollo-gateway.ts`.
 */
import { readFileSync } from "node:fs";
import { ApolloGateway } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";

const supergraphFile = process.env.SUPERGRAPH_FILE;
if (!supergraphFile) throw new Error("SUPERGRAPH_FILE names the composed supergraph.");
const server = new ApolloServer({ gateway: new ApolloGateway({ supergraphSdl: readFileSync(supergraphFile, "utf8") }) });
const { url } = await startStandaloneServer(server, { listen: { host: process.env.HOST ?? "127.0.0.1", port: Number(process.env.PORT ?? 4000) } });
process.stdout.write(`stock @apollo/gateway at ${url}\n`);
const stop = () => void server.stop().then(() => process.exit(0));
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
