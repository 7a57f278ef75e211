/**
 * The public federation benchmark's TestQuery: every user's reviews' products' reviews' authors' reviews' products,
 * and the top products' reviews' authors' reviews' products (about 59 KB of answer, a dozen and more subgraph fetches).
 */
export const TEST_QUERY = `fragment User on User {
  id
  username
  name
}

fragment Review on Review {
  id
  body
}

fragment Product on Product {
  inStock
  name
  price
  shippingEstimate
  upc
  weight
}

query TestQuery {
  users {
    ...User
    reviews {
      ...Review
      product {
        ...Product
        reviews {
          ...Review
          author {
            ...User
            reviews {
              ...Review
              product {
                ...Product
              }
            }
          }
        }
      }
    }
  }
  topProducts {
    ...Product
    reviews {
      ...Review
      author {
        ...User
        reviews {
          ...Review
          product {
            ...Product
          }
        }
      }
    }
  }
}`;

/** The request body every contestant gets. */
export const TEST_QUERY_BODY = JSON.stringify({ query: TEST_QUERY, operationName: "TestQuery" });
