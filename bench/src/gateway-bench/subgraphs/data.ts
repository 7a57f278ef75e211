/**
 * The data of the public federation benchmark's four subgraphs (graphql-hive/graphql-gateways-benchmark): six users,
 * nine products with their stock, eleven reviews. Fixed values, so every run and every gateway answers the same.
 */

export interface User {
  id: string;
  name: string;
  username: string;
  birthday: number;
}

export interface Product {
  upc: string;
  name: string;
  price: number;
  weight: number;
}

export interface Review {
  id: string;
  body: string;
  productUpc: string;
}

export const USERS: readonly User[] = [
  ["1", "Uri Goldshtein", "urigo"],
  ["2", "Dotan Simha", "dotansimha"],
  ["3", "Kamil Kisiela", "kamilkisiela"],
  ["4", "Arda Tanrikulu", "ardatan"],
  ["5", "Gil Gardosh", "gilgardosh"],
  ["6", "Laurin Quast", "laurin"],
].map(([id, name, username]) => ({ id: id!, name: name!, username: username!, birthday: 1234567890 }));

export const PRODUCTS: readonly Product[] = [
  { upc: "1", name: "Table", price: 899, weight: 100 },
  { upc: "2", name: "Couch", price: 1299, weight: 1000 },
  { upc: "3", name: "Glass", price: 15, weight: 20 },
  { upc: "4", name: "Chair", price: 499, weight: 100 },
  { upc: "5", name: "TV", price: 1299, weight: 1000 },
  { upc: "6", name: "Lamp", price: 6999, weight: 300 },
  { upc: "7", name: "Grill", price: 3999, weight: 2000 },
  { upc: "8", name: "Fridge", price: 100000, weight: 6000 },
  { upc: "9", name: "Sofa", price: 9999, weight: 800 },
];

/** The inventory subgraph's own field of a product, by upc. */
export const IN_STOCK: ReadonlyMap<string, boolean> = new Map([
  ["1", true],
  ["2", false],
  ["3", false],
  ["4", false],
  ["5", true],
  ["6", true],
  ["7", true],
  ["8", false],
  ["9", true],
]);

// Cicero's de finibus, the usual placeholder text, in the lengths the public benchmark's reviews have (143 to 844 characters).
const TEXTS = [
  "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est laborum.",
  "Sed ut perspiciatis unde omnis iste natus error sit voluptatem accusantium doloremque laudantium, totam rem aperiam, eaque ipsa quae ab illo inventore veritatis et quasi architecto beatae vitae dicta sunt explicabo. Nemo enim ipsam voluptatem quia voluptas sit aspernatur aut odit aut fugi",
  "sed quia consequuntur magni dolores eos qui ratione voluptatem sequi nesciunt. Neque porro quisquam est, qui dolorem ipsum quia dolor sit amet, consectetur, adipisci velit, sed quia non numquam eius modi tempora incidunt ut labore et dolore magnam aliquam quaerat voluptatem.",
  "Ut enim ad minima veniam, quis nostrum exercitationem ullam corporis suscipit laboriosam, nisi ut aliquid ex ea commodi consequatur? Quis autem",
  "At vero eos et accusamus et iusto odio dignissimos ducimus qui blanditiis praesentium voluptatum deleniti atque corrupti quos dolores et quas molestias excepturi sint occaecati cupiditate non provident, similique sunt in culpa qui officia deserunt mollitia animi, id est laborum et dolorum fuga. Et harum quidem rerum facilis est et expedita distinctio. Nam libero tempore, cum soluta nobis est eligendi optio cumque nihil impedit quo minus id quod maxime placeat facere possimus, omnis voluptas assumenda est, omnis dolor repellendus. Temporibus autem quibusdam et aut officiis debitis aut rerum necessitatibus saepe eveniet ut et voluptates repudiandae sint et molestiae non recusandae. Itaque earum rerum hic tenetur a sapiente delectus, ut aut reiciendis voluptatibus maiores alias consequatur aut perferendis doloribus asperiores repellat.",
];

export const REVIEWS: readonly Review[] = [
  ["1", 0, "1"],
  ["2", 1, "1"],
  ["3", 2, "1"],
  ["4", 3, "1"],
  ["5", 0, "2"],
  ["6", 1, "2"],
  ["7", 2, "2"],
  ["8", 3, "2"],
  ["9", 3, "3"],
  ["10", 3, "4"],
  ["11", 4, "4"],
].map(([id, text, productUpc]) => ({ id: id as string, body: TEXTS[text as number]!, productUpc: productUpc as string }));

/** Every review's author, as the public benchmark has it: the first user (the reviews subgraph provides the username). */
export const REVIEW_AUTHOR_ID = "1";

/** A user's reviews, as the public benchmark has them: the first two reviews, whoever the user is. */
export const reviewsOfUser = (_userId: string): readonly Review[] => REVIEWS.slice(0, 2);

export const reviewsOfProduct = (upc: string): readonly Review[] => REVIEWS.filter((review) => review.productUpc === upc);

/** Free shipping above 1000, else half the weight (integer division, as the original). */
export const shippingEstimate = (price: number | null | undefined, weight: number | null | undefined): number | null =>
  typeof price !== "number" ? null : price > 1000 ? 0 : typeof weight === "number" ? Math.trunc(weight / 2) : null;
