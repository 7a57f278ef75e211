import { buildSchema, type GraphQLError } from "graphql";
import { describe, expect, it } from "vitest";
import { DEFAULT_OPERATION_CEILINGS } from "../src/operation-ceilings.js";
import { MAX_OPERATION_TOKENS, MAX_REUSED_OPERATION_CHARS } from "../src/operation-limits.js";
import { OperationDocuments, type PreparedOperation } from "../src/subscriptions/transport/operation-documents.js";

const schema = buildSchema(`
  type Job { id: ID! status: String! progress: Float! }
  type Query { job(id: ID!): Job }
  type Subscription { jobUpdated(jobId: ID, tail: Int): Job! }
`);

const codesOf = (prepared: PreparedOperation | readonly GraphQLError[]) => (prepared as readonly GraphQLError[]).map((error) => error.extensions.code);

describe("OperationDocuments", () => {
  it("gives every subscriber of one operation text the same document", () => {
    const documents = new OperationDocuments(schema, { ceilings: DEFAULT_OPERATION_CEILINGS, introspection: true });
    const query = "subscription($jobId: ID) { jobUpdated(jobId: $jobId) { id status } }";
    const first = documents.prepare({ query, variables: { jobId: "a" } }) as PreparedOperation;
    const second = documents.prepare({ query, variables: { jobId: "b" } }) as PreparedOperation;
    expect(second.document).toBe(first.document);
    expect(second.variableValues).toEqual({ jobId: "b" });
  });

  it("parses a text longer than the reuse bound each time rather than keeping its document", () => {
    const documents = new OperationDocuments(schema, { ceilings: DEFAULT_OPERATION_CEILINGS, introspection: true });
    const query = `subscription { jobUpdated(jobId: "${"x".repeat(MAX_REUSED_OPERATION_CHARS)}") { id } }`;
    expect(query.length).toBeGreaterThan(MAX_REUSED_OPERATION_CHARS);
    const first = documents.prepare({ query }) as PreparedOperation;
    const second = documents.prepare({ query }) as PreparedOperation;
    // Compared as booleans: a failing expect would print two ASTs of 3,000 fields.
    expect(first.document?.kind).toBe("Document");
    expect(second.document === first.document).toBe(false);
  });

  it("refuses with Apollo's codes: syntax, too many tokens, validation, unknown or ambiguous operation, badly typed variables", () => {
    const documents = new OperationDocuments(schema, { ceilings: DEFAULT_OPERATION_CEILINGS, introspection: true });
    expect(codesOf(documents.prepare({ query: "subscription { jobUpdated( " }))).toEqual(["GRAPHQL_PARSE_FAILED"]);
    const huge = `subscription { jobUpdated { ${"id ".repeat(MAX_OPERATION_TOKENS)} } }`;
    expect(codesOf(documents.prepare({ query: huge }))).toEqual(["GRAPHQL_PARSE_FAILED"]);
    expect(codesOf(documents.prepare({ query: "subscription { jobUpdated { nope } }" }))).toEqual(["GRAPHQL_VALIDATION_FAILED"]);
    expect(codesOf(documents.prepare({ query: "subscription A { jobUpdated { id } }", operationName: "B" }))).toEqual(["BAD_REQUEST"]);
    expect(codesOf(documents.prepare({ query: "subscription A { jobUpdated { id } } subscription B { jobUpdated { status } }" }))).toEqual(["BAD_REQUEST"]);
    const typed = "subscription($jobId: ID, $tail: Int) { jobUpdated(jobId: $jobId, tail: $tail) { id } }";
    expect(codesOf(documents.prepare({ query: typed, variables: { jobId: { a: 1 } } }))).toEqual(["BAD_USER_INPUT"]);
    expect(codesOf(documents.prepare({ query: typed, variables: { tail: "abc" } }))).toEqual(["BAD_USER_INPUT"]);
    expect(codesOf(documents.prepare({ query: 42 }))).toEqual(["BAD_REQUEST"]);
    expect(codesOf(documents.prepare({ query: "" }))).toEqual(["GRAPHQL_PARSE_FAILED"]);
  });

  it("passes on the coerced variables: defaults filled in, undeclared ones dropped; an empty operationName means none", () => {
    const documents = new OperationDocuments(schema, { ceilings: DEFAULT_OPERATION_CEILINGS, introspection: true });
    const query = "subscription($jobId: ID, $tail: Int = 5) { jobUpdated(jobId: $jobId, tail: $tail) { id } }";
    const prepared = documents.prepare({ query, operationName: "", variables: { jobId: 7, junk: "x".repeat(1000) } }) as PreparedOperation;
    expect(prepared.operationName).toBeUndefined();
    expect(prepared.variableValues).toEqual({ jobId: "7", tail: 5 });
  });
});
