import { buildSchema, getIntrospectionQuery, parse, type GraphQLError } from "graphql";
import { describe, expect, it } from "vitest";
import { ceilingViolations, DEFAULT_OPERATION_CEILINGS, measureOperations } from "../src/operation-ceilings.js";
import { OperationDocuments, type PreparedOperation } from "../src/subscriptions/transport/operation-documents.js";

const measure = (text: string) => measureOperations(parse(text))[0]!;

describe("operation ceilings", () => {
  it("measures depth, aliases, root fields, directives and fields with fragments expanded", () => {
    expect(measure("{ a { b { c } } d }")).toEqual({ subscriptionFields: 0, depth: 3, aliases: 0, rootFields: 2, directives: 0, fields: 4 });
    expect(measure("query Q @x { ...F x: a { ... on T @y { z: b } } } fragment F on Query { a { b } c }")).toEqual({
      subscriptionFields: 0,
      depth: 2,
      aliases: 2,
      rootFields: 3,
      directives: 2,
      fields: 5,
    });
  });

  it("refuses a fragment bomb by the millions of fields it stands for, measured in linear time", () => {
    const levels = Array.from({ length: 30 }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`).join("\n");
    const bomb = parse(`{ ...F0 }\n${levels}\nfragment F30 on Query { a }`);
    const started = performance.now();
    const [measured] = measureOperations(bomb);
    expect(measured!.fields).toBe(2 ** 30);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(ceilingViolations(bomb, DEFAULT_OPERATION_CEILINGS).map((e) => e.extensions.ceiling)).toContain("maxFields");
  });

  it("holds subscriptions to their own, lower field ceiling: each distinct one is planned as it arrives", () => {
    const fields = (count: number) => Array.from({ length: count }, () => "id").join(" ");
    expect(ceilingViolations(parse(`subscription { jobUpdated { ${fields(150)} } }`), DEFAULT_OPERATION_CEILINGS).map((e) => e.extensions.ceiling)).toEqual(["maxSubscriptionFields"]);
    expect(ceilingViolations(parse(`{ job { ${fields(150)} } }`), DEFAULT_OPERATION_CEILINGS)).toEqual([]);
  });

  it("measures a fragment cycle as nothing (validation refuses it) instead of looping", () => {
    expect(measure("{ ...A } fragment A on Query { a ...B } fragment B on Query { b ...A }").fields).toBe(2);
  });

  it("lets the standard introspection query through: its type-reference nesting is not the kind of depth that costs", () => {
    expect(ceilingViolations(parse(getIntrospectionQuery()), DEFAULT_OPERATION_CEILINGS)).toEqual([]);
  });

  it("names each ceiling exceeded, with its limit, as BAD_USER_INPUT", () => {
    const nested = "{ stacks { jobs { stack { jobs { stack { jobs { stack { jobs { stack { jobs { id } } } } } } } } } } }";
    const aliases = `{ ${Array.from({ length: 40 }, (_, i) => `a${i}: myTenant { id }`).join(" ")} }`;
    const [depth] = ceilingViolations(parse(nested), DEFAULT_OPERATION_CEILINGS);
    expect(depth!.message).toBe("The operation is too large: 11 levels deep, at most 10 allowed (maxDepth).");
    expect(depth!.extensions).toEqual({ code: "BAD_USER_INPUT", ceiling: "maxDepth", limit: 10 });
    expect(ceilingViolations(parse(aliases), DEFAULT_OPERATION_CEILINGS).map((e) => e.extensions.ceiling)).toEqual(["maxAliases", "maxRootFields"]);
    const directives = `{ a ${"@skip(if: false) ".repeat(60)} }`;
    expect(ceilingViolations(parse(directives), DEFAULT_OPERATION_CEILINGS).map((e) => e.extensions.ceiling)).toEqual(["maxDirectives"]);
  });

  it("holds a socket's operations to the same ceilings, and to introspection and suggestions being off", () => {
    const schema = buildSchema("type Job { id: ID! status: String! } type Query { job: Job } type Subscription { jobUpdated: Job! }");
    const codes = (prepared: PreparedOperation | readonly GraphQLError[]) => (prepared as readonly GraphQLError[]).map((e) => [e.extensions.code, e.extensions.ceiling]);
    const closed = new OperationDocuments(schema, { ceilings: { ...DEFAULT_OPERATION_CEILINGS, maxFields: 3 }, introspection: false });
    expect(codes(closed.prepare({ query: "subscription { jobUpdated { id status __typename } }" }))).toEqual([["BAD_USER_INPUT", "maxFields"]]);
    expect(codes(closed.prepare({ query: "{ __schema { types { name } } }" }))).toEqual([["GRAPHQL_VALIDATION_FAILED", undefined]]);
    const [typo] = closed.prepare({ query: "subscription { jobUpdated { statu } }" }) as readonly GraphQLError[];
    expect(typo!.message).not.toMatch(/Did you mean/);
    const open = new OperationDocuments(schema, { ceilings: DEFAULT_OPERATION_CEILINGS, introspection: true });
    expect("document" in open.prepare({ query: "{ __schema { types { name } } }" })).toBe(true);
    const [suggested] = open.prepare({ query: "subscription { jobUpdated { statu } }" }) as readonly GraphQLError[];
    expect(suggested!.message).toMatch(/Did you mean "status"/);
  });
});
