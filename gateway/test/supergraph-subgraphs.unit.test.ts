import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseGatewayConfig } from "../src/config.js";
import { subgraphsOfSupergraph, subgraphUrlOverrides, subgraphUrlVariableOf } from "../src/federation/supergraph-subgraphs.js";

const OURS = readFileSync(new URL("../../schema/supergraph.graphql", import.meta.url), "utf8");

/** A supergraph of someone else's: the public federation benchmark's four subgraphs, composed elsewhere. */
const THEIRS = `
schema @link(url: "https://specs.apollo.dev/link/v1.0") @link(url: "https://specs.apollo.dev/join/v0.4", for: EXECUTION) { query: Query }
directive @join__graph(name: String!, url: String!) on ENUM_VALUE
enum join__Graph {
  ACCOUNTS @join__graph(name: "accounts", url: "http://accounts:4001/graphql")
  INVENTORY @join__graph(name: "inventory", url: "http://inventory:4002/graphql")
  PRODUCTS @join__graph(name: "products", url: "http://products:4003/graphql")
  REVIEWS @join__graph(name: "reviews", url: "http://reviews:4004/graphql")
}
type Query { me: String }
`;

describe("the subgraphs of whatever supergraph the gateway serves", () => {
  it("takes them and their URLs from join__graph, for ours and anyone's", () => {
    expect(Object.keys(subgraphsOfSupergraph(OURS, {})).sort()).toEqual(["billing", "identity", "simulation", "stack", "stackkit", "tenant"]);
    expect(subgraphsOfSupergraph(THEIRS, {})).toEqual({
      accounts: "http://accounts:4001/graphql",
      inventory: "http://inventory:4002/graphql",
      products: "http://products:4003/graphql",
      reviews: "http://reviews:4004/graphql",
    });
  });

  it("lets SUBGRAPH_<NAME>_URL move any of them, and ignores variables of subgraphs it does not have", () => {
    const overrides = subgraphUrlOverrides({ SUBGRAPH_REVIEWS_URL: "http://127.0.0.1:9/graphql", SUBGRAPH_NOPE_URL: "http://x/graphql", OTHER: "y" });
    expect(subgraphsOfSupergraph(THEIRS, overrides).reviews).toBe("http://127.0.0.1:9/graphql");
    expect(subgraphUrlVariableOf("stack-kit")).toBe("SUBGRAPH_STACK_KIT_URL");
  });

  it("refuses a malformed override by name at start", () => {
    expect(() => parseGatewayConfig({ NODE_ENV: "development", DATABASE_URL: "postgres://u@h/db", CONTEXT_SIGNING_KEY: "-----BEGIN PRIVATE KEY-----", SUBGRAPH_REVIEWS_URL: "ftp://x" })).toThrow(
      /SUBGRAPH_REVIEWS_URL="ftp:\/\/x" is invalid/,
    );
  });

  it("refuses a document that is not a composed supergraph", () => {
    expect(() => subgraphsOfSupergraph("type Query { a: Int }", {})).toThrow(/no join__Graph/);
  });
});
