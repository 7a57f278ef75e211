import { readFileSync } from "node:fs";
import { Supergraph } from "@apollo/federation-internals";
import { getOperationAST, parse } from "graphql";
import { describe, expect, it } from "vitest";
import { costLimitFor, costOf, DeclaredCosts, estimateCost, type CostPolicy } from "../src/operation-cost.js";

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

describe("what the subgraphs declare: @cost and @listSize, read from the supergraph", () => {
  const supergraph = readFileSync(new URL("../../schema/supergraph.graphql", import.meta.url), "utf8");
  const declared = DeclaredCosts.fromSupergraph(supergraph);
  const declaredCost = (text: string) => {
    const document = parse(text);
    return estimateCost(schema, document, getOperationAST(document)!, {}, 10, declared);
  };

  it("finds the declarations composition carried into the supergraph", () => {
    expect(declared.of("Query", "plans")).toEqual({ assumedSize: 3 });
    expect(declared.of("Mutation", "createSimulation")).toEqual({ weight: 50 });
    expect(declared.of("Query", "me")).toBeUndefined();
  });

  it("sizes a list by its @listSize and weighs a field by its @cost", () => {
    expect(declaredCost("{ plans { name } }")).toBe(3 * 2);
    expect(cost("{ plans { name } }")).toBe(10 * 2);
    expect(declaredCost('mutation { createSimulation(name: "lab", nodeCount: 2) { id } }')).toBe(50 + 1);
  });

  it("takes slicing arguments a declaration names instead of the usual ones", () => {
    const custom = DeclaredCosts.fromSupergraph('type Query { stacks(take: Int): [Stack!]! @listSize(slicingArguments: ["take"]) } type Stack { id: ID! }');
    const document = parse("{ stacks { id } }");
    expect(estimateCost(schema, document, getOperationAST(document)!, {}, 10, custom)).toBe(10 * 2);
    expect(custom.of("Query", "stacks")).toEqual({ slicingArguments: ["take"] });
  });
});

describe("the ceiling a caller's plan sets", () => {
  const policy: CostPolicy = {
    maxCost: 1_000,
    assumedListSize: 10,
    declared: DeclaredCosts.none(),
    planCeiling: (caller) => (caller.kind === "user" && caller.tenant?.plan === "PRO" ? 500 : 50),
  };
  const caller = (plan: "FREE" | "PRO") => ({ kind: "user" as const, userId: "u", email: null, name: null, orgId: "o", orgName: null, roles: [], tenant: { id: "t", slug: "t", plan } });
  const measure = (plan: "FREE" | "PRO") => {
    const document = parse("{ stacks { jobs(last: 4) { id } } }");
    return costOf(schema, document, getOperationAST(document)!, {}, policy, caller(plan));
  };

  it("refuses beyond the plan's ceiling with COST_LIMIT_EXCEEDED naming the cost and the ceiling, and lets a bigger plan through", () => {
    const free = measure("FREE");
    expect(free.refusal?.extensions).toMatchObject({ code: "COST_LIMIT_EXCEEDED", cost: 90, limit: 50 });
    expect(free.refusal?.message).toMatch(/90 values, at most 50 allowed/);
    expect(measure("PRO")).toMatchObject({ cost: 90, limit: 500, refusal: null });
  });

  it("never lets a plan above the ceiling for everyone", () => {
    expect(costLimitFor({ ...policy, planCeiling: () => 1e9 }, caller("PRO"))).toBe(1_000);
  });
});

describe("variables as execution will see them", () => {
  it("weighs a variable left out by the argument's default, never by the assumed size", () => {
    // Stack.jobs(last: Int = 20): a $n the request does not give is 20 at execution, so it weighs 20.
    expect(cost("query($n: Int) { stacks { jobs(last: $n) { id } } }", {})).toBe(10 * (1 + 20 * 2));
  });
});
