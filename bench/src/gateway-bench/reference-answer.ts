import { buildSchema, graphqlSync } from "graphql";
import { IN_STOCK, PRODUCTS, REVIEW_AUTHOR_ID, reviewsOfProduct, reviewsOfUser, shippingEstimate, USERS, type Product, type Review, type User } from "./subgraphs/data.js";
import { TEST_QUERY } from "./test-query.js";

/**
 * The TestQuery's `data` as one plain GraphQL server over the same data would answer it, with no federation in
 * between: what every gateway's answer must deep-equal.
 */
export function referenceAnswer(): unknown {
  const schema = buildSchema(`
    type Query { me: User, user(id: ID!): User, users: [User], topProducts(first: Int = 5): [Product] }
    type User { id: ID!, name: String, username: String, birthday: Int, reviews: [Review] }
    type Review { id: ID!, body: String, product: Product, author: User }
    type Product { upc: String!, name: String, price: Int, weight: Int, inStock: Boolean, shippingEstimate: Int, reviews: [Review] }
  `);
  const products = new Map(PRODUCTS.map((product) => [product.upc, product]));
  const users = new Map(USERS.map((user) => [user.id, user]));
  const user = (data: User) => ({ ...data, reviews: () => reviewsOfUser(data.id).map(review) });
  const review = (data: Review) => ({ id: data.id, body: data.body, product: () => product(products.get(data.productUpc)!), author: () => user(users.get(REVIEW_AUTHOR_ID)!) });
  const product = (data: Product) => ({
    ...data,
    inStock: IN_STOCK.get(data.upc) ?? null,
    shippingEstimate: shippingEstimate(data.price, data.weight),
    reviews: () => reviewsOfProduct(data.upc).map(review),
  });
  const result = graphqlSync({
    schema,
    source: TEST_QUERY,
    rootValue: { users: () => USERS.map(user), topProducts: ({ first }: { first: number }) => PRODUCTS.slice(0, first).map(product) },
  });
  if (result.errors) throw new Error(`The reference answer failed: ${result.errors.map((error) => error.message).join("; ")}`);
  return JSON.parse(JSON.stringify(result.data));
}

/** Where `actual` first differs from `expected` (a JSON path and both values), or null when deep-equal. */
export function firstDifference(expected: unknown, actual: unknown, path = "data"): string | null {
  if (expected === actual) return null;
  if (typeof expected !== "object" || typeof actual !== "object" || expected === null || actual === null || Array.isArray(expected) !== Array.isArray(actual)) {
    return `${path}: expected ${JSON.stringify(expected)?.slice(0, 120)}, got ${JSON.stringify(actual)?.slice(0, 120)}`;
  }
  if (Array.isArray(expected) && Array.isArray(actual) && expected.length !== actual.length) return `${path}: expected ${expected.length} items, got ${actual.length}`;
  const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
  for (const key of keys) {
    const difference = firstDifference((expected as Record<string, unknown>)[key], (actual as Record<string, unknown>)[key], Array.isArray(expected) ? `${path}[${key}]` : `${path}.${key}`);
    if (difference) return difference;
  }
  return null;
}
