import { buildSchema as buildFederationSchema, operationFromDocument } from "@apollo/federation-internals";
import { computeResponse } from "@apollo/gateway/dist/resultShaping.js";
import { buildSchema, Kind, parse, type FragmentDefinitionNode, type OperationDefinitionNode } from "graphql";
import { describe, expect, it } from "vitest";
import { ResultShape } from "../src/execution/result-shape.js";

const sdl = `
  type Query { node(id: ID!): Node  search: [SearchResult!]  stacks: [Stack!]!  me: User!  count: Int  ratio: Float  flag: Boolean  custom: JSON }
  scalar JSON
  interface Node { id: ID! }
  type Stack implements Node { id: ID! name: String! status: Status owner: User nodes: [Machine] }
  type Machine implements Node { id: ID! hostname: String! }
  type User implements Node { id: ID! email: String stacks: [Stack!] }
  union SearchResult = Stack | Machine
  enum Status { RUNNING STOPPED }
`;
const schema = buildSchema(sdl);
const federationSchema = buildFederationSchema(sdl);

/** Our compiled shaping against @apollo/gateway's computeResponse, on the same operation, data and variables. */
function both(query: string, input: Record<string, unknown> | null, variables: Record<string, unknown> = {}) {
  const document = parse(query);
  const operation = document.definitions.find((definition) => definition.kind === Kind.OPERATION_DEFINITION) as OperationDefinitionNode;
  const fragments = document.definitions.filter((definition) => definition.kind === Kind.FRAGMENT_DEFINITION) as FragmentDefinitionNode[];
  const ours = new ResultShape(schema, operation, fragments).shape(input, variables, () => "introspected");
  const stock = computeResponse({ operation: operationFromDocument(federationSchema, document), variables, input, introspectionHandling: () => "introspected" });
  const messages = (errors: readonly { message: string; path?: readonly (string | number)[] }[]) => errors.map((error) => [error.message, error.path]);
  return { ours: { data: ours.data, errors: messages(ours.errors) }, stock: { data: stock.data, errors: messages(stock.errors) } };
}

const cases: [string, string, Record<string, unknown> | null, Record<string, unknown>?][] = [
  ["aliases, fields the plan added, field order", "{ first: stacks { n: name id } me { id } }", { first: [{ n: "a", id: "1", __typename: "Stack", extra: 1 }], me: { id: "u", email: "x", __typename: "User" } }],
  ["fragments on an interface and a union by __typename", "{ node(id: 1) { id ... on Stack { name } ...M } search { __typename ... on Machine { hostname } ... on Node { id } } } fragment M on Machine { hostname }", { node: { __typename: "Machine", id: "m", hostname: "h", name: "no" }, search: [{ __typename: "Stack", id: "s" }, { __typename: "Machine", id: "m2", hostname: "h2" }] }],
  ["@skip and @include by variables and literals", "query($a: Boolean!, $b: Boolean!) { stacks { id @skip(if: $a) name @include(if: $b) status @include(if: false) } }", { stacks: [{ id: "1", name: "n", status: "RUNNING" }] }, { a: true, b: true }],
  ["@skip and @include by variables left out, which take their defaults", "query($a: Boolean = true, $b: Boolean = false, $c: Boolean = true) { stacks { id @include(if: $a) name @skip(if: $b) status @skip(if: $c) } }", { stacks: [{ id: "1", name: "n", status: "RUNNING" }] }],
  ["the same with other variable values", "query($a: Boolean!, $b: Boolean!) { stacks { id @skip(if: $a) name @include(if: $b) } }", { stacks: [{ id: "1", name: "n" }] }, { a: false, b: false }],
  ["a null non-null field bubbles to the nearest nullable one", "{ me { id email stacks { id name } } }", { me: { id: "u", email: null, stacks: [{ id: "1", name: null }] } }],
  ["a null in a non-null list element nulls the list", "{ search { ... on Stack { id } } }", { search: [null] }],
  ["a null non-null root field nulls data", "{ stacks { id } }", { stacks: null }],
  ["a missing field is null", "{ count ratio flag custom me { id } }", { me: { id: "u" } }],
  ["invalid leaves: unknown enum value, a string for an Int, an object for a String", "{ count node(id: 1) { ... on Stack { status name } } }", { count: "7", node: { __typename: "Stack", status: "HIDDEN", name: { a: 1 } } }],
  ["an unknown (inaccessible) __typename", "{ node(id: 1) { id } search { __typename } }", { node: { __typename: "Secret", id: "1" }, search: [{ __typename: "Stack" }] }],
  ["custom scalars pass as they are; floats and booleans by kind", "{ custom ratio flag count }", { custom: { any: ["thing"] }, ratio: 1, flag: "yes", count: 2.5 }],
  ["__typename of the root and of objects without one in the data", "{ __typename me { __typename id } }", { me: { id: "u" } }],
  ["nested lists of objects with repeated selections merged", "{ stacks { id nodes { id } nodes { hostname } owner { id } owner { email } } }", { stacks: [{ id: "1", nodes: [{ id: "m", hostname: "h" }, null], owner: null }] }],
  ["introspection fields", "{ __schema { queryType { name } } me { id } }", { me: { id: "u" } }],
  ["no data", "{ me { id } }", null],
];

describe("ResultShape", () => {
  it.each(cases)("shapes as @apollo/gateway's computeResponse does: %s", (_name, query, input, variables) => {
    const { ours, stock } = both(query, input, variables);
    expect(ours.data).toEqual(stock.data);
    expect(JSON.stringify(ours.data)).toBe(JSON.stringify(stock.data));
    expect(ours.errors).toEqual(stock.errors);
  });
});
