import { readFileSync } from "node:fs";
import { buildSchema, parse, validate } from "graphql";
import { describe, expect, it } from "vitest";
import { DASHBOARD_OPERATIONS } from "../web/operations.js";

/** The dashboard's result types are written by hand: at least its documents must fit the published schema. */
describe("the dashboard's operations", () => {
  const schema = buildSchema(readFileSync(new URL("../../../schema/supergraph.graphql", import.meta.url), "utf8"), { assumeValidSDL: true });

  it.each(Object.entries(DASHBOARD_OPERATIONS))("%s validates against schema/supergraph.graphql", (_name, document) => {
    expect(validate(schema, parse(document)).map((error) => error.message)).toEqual([]);
  });
});
