import { generateKeyPairSync } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { composeServices } from "@apollo/composition";
import { ApolloGateway } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { execute, parse, type GraphQLSchema } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TenantContextSigner } from "@kombify/service-core/tenant-context";
import { ANONYMOUS } from "@kombify/service-core/auth";
import { FederatedExecutor } from "../../gateway/src/execution/federated-executor.js";
import { SupergraphPlanner } from "../../gateway/src/federation/supergraph-planner.js";
import { subgraphsOfSupergraph } from "../../gateway/src/federation/supergraph-subgraphs.js";

const books = [
  { id: "1", title: "One", pages: 10, genre: "A" },
  { id: "2", title: "Two", pages: 20, genre: "HIDDEN" },
  { id: "3", title: "Three", pages: 30, genre: "B" },
];
const movies = [
  { id: "m1", title: "Film", minutes: 90 },
  { id: "m2", title: null, minutes: 100 },
];

const catalog = {
  name: "catalog",
  typeDefs: parse(`
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@inaccessible", "@shareable"])
    interface Media { id: ID! title: String! }
    type Book implements Media @key(fields: "id") { id: ID! title: String! pages: Int genre: Genre }
    type Movie implements Media @key(fields: "id") { id: ID! title: String! minutes: Int }
    union Result = Book | Movie
    enum Genre { A B HIDDEN @inaccessible }
    type Query { media: [Media!]! search: [Result]! book(id: ID!): Book films: [Movie] }
  `),
  resolvers: {
    Query: { media: () => [...books, ...movies], search: () => [books[0], movies[0], null, books[2]], book: (_: unknown, { id }: { id: string }) => books.find((book) => book.id === id), films: () => movies },
    Media: { __resolveType: (value: { pages?: number }) => (value.pages !== undefined ? "Book" : "Movie") },
    Result: { __resolveType: (value: { pages?: number }) => (value.pages !== undefined ? "Book" : "Movie") },
    Book: { __resolveReference: (ref: { id: string }) => books.find((book) => book.id === ref.id) },
    Movie: { __resolveReference: (ref: { id: string }) => movies.find((movie) => movie.id === ref.id) },
  },
};
const reviews = {
  name: "reviews",
  typeDefs: parse(`
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
    type Book @key(fields: "id") { id: ID! reviews: [Review!]! }
    type Movie @key(fields: "id") { id: ID! rating: Float }
    type Review { body: String! stars: Int }
  `),
  resolvers: {
    Book: {
      reviews: (book: { id: string }) => {
        if (book.id === "3") throw new Error("reviews of 3 are broken");
        return book.id === "2" ? [{ body: null, stars: 1 }] : [{ body: `about ${book.id}`, stars: 5 }];
      },
    },
    Movie: { rating: (movie: { id: string }) => (movie.id === "m1" ? 4.5 : null) },
  },
};

async function serve(schema: GraphQLSchema): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", async () => {
      const { query, variables, operationName } = JSON.parse(body);
      const result = await execute({ schema, document: parse(query), variableValues: variables, operationName });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(result));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, server };
}

const queries: [string, Record<string, unknown>?][] = [
  ["{ media { __typename id title ... on Book { pages reviews { body stars } } ... on Movie { minutes rating } } }"],
  ["{ search { __typename ... on Book { t: title } ...M } } fragment M on Movie { title rating }"],
  ["query($s: Boolean!, $i: Boolean = true) { media { id title @skip(if: $s) ... on Book @include(if: $i) { pages } } }", { s: true }],
  ["query($s: Boolean!, $i: Boolean = true) { media { id title @skip(if: $s) ... on Book @include(if: $i) { pages } } }", { s: false, i: false }],
  ['{ b: book(id: "1") { id genre reviews { stars body } } c: book(id: "2") { genre } d: book(id: "3") { title reviews { body } } }'],
  ["{ films { id title rating } }"],
  ['{ book(id: "2") { reviews { body stars } } }'],
  ["{ media { ... on Media { id } ... on Movie { rating } } x: media { id } }"],
  ['{ c: book(id: "2") { genre id } }'],
  ['{ books: search { ... on Book { id genre } } }'],
  ["query($show: Boolean = true, $hide: Boolean = false) { search { ... on Book @include(if: $show) { id } ... on Movie @skip(if: $hide) { minutes } } }"],
  ['query Q($id: ID!) { book(id: $id) { ...B } } fragment B on Book { title ... on Media { id } }', { id: "1" }],
];

/**
 * The gateway's own executor (FederatedExecutor) and stock @apollo/gateway over the same two subgraphs with an
 * interface, a union, an entity across them, an @inaccessible enum value and nulls where the schema forbids them:
 * the same answers (data, errors with their paths and codes), query by query.
 */
describe("our executor against stock @apollo/gateway", () => {
  let stock: ApolloServer;
  let ours: ApolloServer;
  const servers: Server[] = [];

  beforeAll(async () => {
    const urls: Record<string, string> = {};
    for (const subgraph of [catalog, reviews]) {
      const { url, server } = await serve(buildSubgraphSchema({ typeDefs: subgraph.typeDefs, resolvers: subgraph.resolvers as never }));
      urls[subgraph.name] = url;
      servers.push(server);
    }
    const composed = composeServices([catalog, reviews].map(({ name, typeDefs }) => ({ name, typeDefs, url: urls[name] })));
    if (composed.errors) throw new Error(composed.errors.map((error) => error.message).join("\n"));
    const supergraphSdl = composed.supergraphSdl;
    stock = new ApolloServer({ gateway: new ApolloGateway({ supergraphSdl }) });
    const { privateKey } = generateKeyPairSync("ed25519");
    ours = new ApolloServer({
      gateway: new FederatedExecutor({
        supergraph: new SupergraphPlanner(supergraphSdl),
        supergraphSdl,
        subgraphUrls: subgraphsOfSupergraph(supergraphSdl, {}),
        signer: new TenantContextSigner(privateKey),
        timeoutMs: 5000,
        connectionsPerSubgraph: 2,
        tracing: false,
      }),
    });
    await stock.start();
    await ours.start();
  });
  afterAll(async () => {
    await stock?.stop();
    await ours?.stop();
    for (const server of servers) server.close();
  });

  const log = { warn() {}, info() {}, error() {}, debug() {}, child: () => log };
  async function run(server: ApolloServer, query: string, variables?: Record<string, unknown>) {
    const response = await server.executeOperation({ query, variables }, { contextValue: { caller: ANONYMOUS, requestId: "r", log } as never });
    if (response.body.kind !== "single") throw new Error("expected a single result");
    const result = JSON.parse(JSON.stringify(response.body.singleResult));
    for (const error of result.errors ?? []) delete error.locations;
    return result;
  }

  it.each(queries)("answers %s (variables %o) as stock does", async (query, variables) => {
    expect(await run(ours, query, variables)).toEqual(await run(stock, query, variables));
  });

  it("places an entity fetch's error at the entity it is about, where stock places it at the representation's index", async () => {
    // search: [Book 1, Movie, null, Book 3]; only the books are sent to reviews, and Book 3's reviews fail.
    const query = "{ search { ... on Book { id reviews { stars } } ... on Media { title } } }";
    const [expected, actual] = [await run(stock, query), await run(ours, query)];
    expect(expected.errors[0].path).toEqual(["search", 1, "reviews"]);
    expect(actual.errors[0].path).toEqual(["search", 3, "reviews"]);
    expect(actual.data).toEqual(expected.data);
  });
});
