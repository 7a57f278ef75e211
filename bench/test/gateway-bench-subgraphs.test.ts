import { ApolloGateway } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plannedFetches } from "../src/gateway-bench/query-plan.js";
import { firstDifference, referenceAnswer } from "../src/gateway-bench/reference-answer.js";
import { serveBenchSubgraphs, type BenchSubgraphsServer } from "../src/gateway-bench/subgraphs/subgraph-server.js";
import { composeBenchSupergraph } from "../src/gateway-bench/subgraphs/supergraph.js";
import { TEST_QUERY } from "../src/gateway-bench/test-query.js";

// pnpm bench gateway compares gateways only if its subgraphs are the public benchmark's and its reference answer is right.
describe("the gateway benchmark's subgraphs", () => {
  let subgraphs: BenchSubgraphsServer;
  let supergraphSdl: string;
  let server: ApolloServer;

  beforeAll(async () => {
    subgraphs = await serveBenchSubgraphs();
    supergraphSdl = composeBenchSupergraph(subgraphs.urls);
    server = new ApolloServer({ gateway: new ApolloGateway({ supergraphSdl }) });
    await server.start();
  });
  afterAll(async () => {
    await server?.stop();
    await subgraphs?.stop();
  });

  it("compose into the public benchmark's plan for the TestQuery: 16 fetches over the four subgraphs", () => {
    const fetches = plannedFetches(supergraphSdl, TEST_QUERY, "TestQuery");
    expect(fetches).toHaveLength(16);
    expect(new Set(fetches)).toEqual(new Set(["accounts", "inventory", "products", "reviews"]));
  });

  it("answer the TestQuery through stock @apollo/gateway with the reference answer, and repeated bodies from the cache", async () => {
    const ask = async () => {
      const response = await server.executeOperation({ query: TEST_QUERY, operationName: "TestQuery" });
      if (response.body.kind !== "single") throw new Error("expected a single result");
      return response.body.singleResult;
    };
    const first = await ask();
    expect(first.errors).toBeUndefined();
    expect(firstDifference(referenceAnswer(), JSON.parse(JSON.stringify(first.data)))).toBeNull();
    const afterFirst = subgraphs.stats();
    expect(afterFirst.requests).toBe(16);

    const second = await ask();
    expect(second.data).toEqual(first.data);
    expect(subgraphs.stats()).toEqual({ requests: 32, executed: afterFirst.executed });
  });

  it("tell where an answer differs from the reference", () => {
    const reference = referenceAnswer() as { users: { name: string }[] };
    const changed = structuredClone(reference);
    changed.users[2]!.name = "Someone Else";
    expect(firstDifference(reference, changed)).toBe('data.users[2].name: expected "Kamil Kisiela", got "Someone Else"');
  });
});
