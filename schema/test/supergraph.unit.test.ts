import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { buildSchema, isEnumType, isObjectType, parse, type ObjectTypeDefinitionNode, type ObjectTypeExtensionNode } from "graphql";
import { composeSupergraph } from "../src/supergraph-builder.js";
import { staleSchemaFiles, SUPERGRAPH_FILE } from "../src/schema-files.js";

const sketchFile = fileURLToPath(new URL("../contract/supergraph-sketch.graphql", import.meta.url));

describe("the composed supergraph", async () => {
  const composed = await composeSupergraph();
  const supergraphSdl = readFileSync(SUPERGRAPH_FILE, "utf8");
  const apiSchema = buildSchema(supergraphSdl, { assumeValidSDL: true });

  it("is checked in exactly as the code composes it (run `pnpm compose` when this fails)", () => {
    expect(staleSchemaFiles(composed)).toEqual([]);
  });

  it("composes all six subgraphs without hints", () => {
    for (const name of ["TENANT", "IDENTITY", "STACK", "SIMULATION", "STACKKIT", "BILLING"]) {
      expect(supergraphSdl).toContain(`${name} @join__graph(name: "${name.toLowerCase()}"`);
    }
    expect(composed.hints).toEqual([]);
  });

  it("keeps every root field, argument, entity key and enum value of the public API sketch", () => {
    const sketch = parse(readFileSync(sketchFile, "utf8"));
    const missing: string[] = [];
    for (const definition of sketch.definitions) {
      if (definition.kind === "EnumTypeDefinition") {
        const type = apiSchema.getType(definition.name.value);
        const values = isEnumType(type) ? type.getValues().map((v) => v.name) : [];
        for (const value of definition.values ?? []) if (!values.includes(value.name.value)) missing.push(`${definition.name.value}.${value.name.value}`);
      }
      if (definition.kind !== "ObjectTypeDefinition" && definition.kind !== "ObjectTypeExtension") continue;
      const node = definition as ObjectTypeDefinitionNode | ObjectTypeExtensionNode;
      const type = apiSchema.getType(node.name.value);
      if (!isObjectType(type)) {
        missing.push(node.name.value);
        continue;
      }
      for (const field of node.fields ?? []) {
        const actual = type.getFields()[field.name.value];
        if (!actual) {
          missing.push(`${node.name.value}.${field.name.value}`);
          continue;
        }
        for (const arg of field.arguments ?? []) {
          if (!actual.args.some((a) => a.name === arg.name.value)) missing.push(`${node.name.value}.${field.name.value}(${arg.name.value})`);
        }
      }
      for (const directive of node.directives ?? []) {
        if (directive.name.value !== "key") continue;
        const fields = directive.arguments?.find((a) => a.name.value === "fields");
        const keyFields = fields?.value.kind === "StringValue" ? fields.value.value : "";
        if (!supergraphSdl.includes(`key: "${keyFields}"`) || !new RegExp(`type ${node.name.value}\\b[^{]*key: "${keyFields}"`, "s").test(supergraphSdl)) {
          missing.push(`${node.name.value} @key(${keyFields})`);
        }
      }
    }
    expect(missing).toEqual([]);
  });
});
