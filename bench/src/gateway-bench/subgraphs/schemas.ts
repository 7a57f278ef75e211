import { buildSubgraphSchema } from "@apollo/subgraph";
import { parse, type DocumentNode, type GraphQLSchema } from "graphql";
import { IN_STOCK, PRODUCTS, REVIEW_AUTHOR_ID, REVIEWS, reviewsOfProduct, reviewsOfUser, shippingEstimate, USERS, type Review } from "./data.js";

/**
 * The public federation benchmark's four subgraphs (accounts, inventory, products, reviews), written as Federation 2
 * subgraphs. `@listSize` states what each list holds in this data (six users, two reviews a user, at most four a
 * product, `first` products): the federation way to tell a gateway's cost estimate the sizes it would otherwise
 * assume, here ten for every list.
 */
export type BenchSubgraphName = "accounts" | "inventory" | "products" | "reviews";

export interface BenchSubgraph {
  name: BenchSubgraphName;
  typeDefs: DocumentNode;
  schema: GraphQLSchema;
}

const link = (imports: string[]) => `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ${JSON.stringify(imports)})`;

const byId = <T, K extends keyof T>(items: readonly T[], key: K) => new Map(items.map((item) => [item[key], item]));
const users = byId(USERS, "id");
const products = byId(PRODUCTS, "upc");
const reviews = byId(REVIEWS, "id");

const definitions: Record<BenchSubgraphName, { sdl: string; resolvers: Record<string, Record<string, unknown>> }> = {
  accounts: {
    sdl: `${link(["@key", "@shareable", "@listSize"])}
      type Query {
        me: User
        user(id: ID!): User
        users: [User] @listSize(assumedSize: 6)
      }
      type User @key(fields: "id") {
        id: ID!
        name: String
        username: String @shareable
        birthday: Int
      }`,
    resolvers: {
      Query: {
        me: () => USERS[0],
        user: (_: unknown, { id }: { id: string }) => users.get(id) ?? null,
        users: () => USERS,
      },
      User: { __resolveReference: ({ id }: { id: string }) => users.get(id) ?? null },
    },
  },
  inventory: {
    sdl: `${link(["@key", "@external", "@requires"])}
      type Product @key(fields: "upc") {
        upc: String!
        weight: Int @external
        price: Int @external
        inStock: Boolean
        shippingEstimate: Int @requires(fields: "price weight")
      }`,
    resolvers: {
      Product: {
        __resolveReference: (reference: { upc: string; price?: number | null; weight?: number | null }) => ({ ...reference, inStock: IN_STOCK.get(reference.upc) ?? null }),
        shippingEstimate: (product: { price?: number | null; weight?: number | null }) => shippingEstimate(product.price, product.weight),
      },
    },
  },
  products: {
    sdl: `${link(["@key", "@listSize"])}
      type Query {
        topProducts(first: Int = 5): [Product] @listSize(slicingArguments: ["first"])
      }
      type Product @key(fields: "upc") {
        upc: String!
        name: String
        price: Int
        weight: Int
      }`,
    resolvers: {
      Query: { topProducts: (_: unknown, { first }: { first: number }) => PRODUCTS.slice(0, Math.max(0, first)) },
      Product: { __resolveReference: ({ upc }: { upc: string }) => products.get(upc) ?? null },
    },
  },
  reviews: {
    sdl: `${link(["@key", "@external", "@provides", "@listSize"])}
      type Review @key(fields: "id") {
        id: ID!
        body: String
        product: Product
        author: User @provides(fields: "username")
      }
      type User @key(fields: "id") {
        id: ID!
        username: String @external
        reviews: [Review] @listSize(assumedSize: 2)
      }
      type Product @key(fields: "upc") {
        upc: String!
        reviews: [Review] @listSize(assumedSize: 4)
      }`,
    resolvers: {
      Review: {
        __resolveReference: ({ id }: { id: string }) => reviews.get(id) ?? null,
        product: (review: Review) => ({ upc: review.productUpc }),
        author: () => ({ id: REVIEW_AUTHOR_ID, username: users.get(REVIEW_AUTHOR_ID)!.username }),
      },
      User: {
        __resolveReference: ({ id }: { id: string }) => ({ id }),
        reviews: ({ id }: { id: string }) => reviewsOfUser(id),
      },
      Product: {
        __resolveReference: ({ upc }: { upc: string }) => ({ upc }),
        reviews: ({ upc }: { upc: string }) => reviewsOfProduct(upc),
      },
    },
  },
};

export const BENCH_SUBGRAPH_NAMES = Object.keys(definitions) as BenchSubgraphName[];

/** Each subgraph's schema, built as @apollo/subgraph builds any Federation 2 subgraph. */
export function benchSubgraphs(): BenchSubgraph[] {
  return BENCH_SUBGRAPH_NAMES.map((name) => {
    const typeDefs = parse(definitions[name].sdl);
    return { name, typeDefs, schema: buildSubgraphSchema({ typeDefs, resolvers: definitions[name].resolvers as never }) };
  });
}
