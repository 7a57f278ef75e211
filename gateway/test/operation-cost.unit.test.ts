import { readFileSync } from "node:fs";
import { Supergraph } from "@apollo/federation-internals";
import { getOperationAST, parse } from "graphql";
import { describe, expect, it } from "vitest";
import { estimateCost } from "../src/operation-cost.js";

const schema = Supergraph.build(readFileSync(new URL("../../schema/supergraph.graphql", import.meta.url), "utf8")).apiSchema().toGraphQLJSSchema();
const cost = (text: string, variables: Record<string, unknown> = {}) => {
  const document = parse(text);
  return estimateCost(schema, document, getOperationAST(document)!, variables, 10);
};

describe("estimated cost of an answer", () => {
  it("counts each value once per item of the lists above it, by slicing argument, default or assumed size", () => {
    expect(cost("{ stacks { id } }")).toBe(10 * 2);
    expect(cost("{ stacks { jobs { id } } }")).toBe(10 * (1 + 20 * 2));
    expect(cost("query($n: Int) { stacks { jobs(last: $n) { id } } }", { n: 3 })).toBe(10 * (1 + 3 * 2));
    expect(cost("{ job(id: \"x\") { logs(tail: 7) } }")).toBe(1 + 7);
    expect(cost("{ stacks { ...F } } fragment F on Stack { jobs(last: 2) { id } }")).toBe(10 * (1 + 2 * 2));
  });

  it("prices the README's operations low and the nested back-references attack far beyond the default ceiling", () => {
    expect(cost("{ myTenant { name plan { name limits { maxStacks } } stacks { name stackKit { name tier entitled } nodes { hostname } } } }")).toBeLessThan(1000);
    expect(cost("{ stacks { jobs { stack { jobs { stack { jobs { stack { jobs { id } } } } } } } } }")).toBeGreaterThan(1_000_000);
  });
});
