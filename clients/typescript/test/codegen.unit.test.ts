import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { parse } from "graphql";
import { describe, expect, it } from "vitest";
import * as generated from "../src/generated/graphql.js";
import { generateClientFiles, PERSISTED_DOCUMENTS_FILE, staleClientFiles } from "../codegen/client-codegen.js";

describe("the typed client's generated files", async () => {
  const files = await generateClientFiles();

  it("are checked in exactly as the code generator writes them (run `pnpm codegen` when this fails)", () => {
    expect(staleClientFiles(files)).toEqual([]);
  });

  it("register every operation under the sha256 of the text sent, in Apollo's APQ format", () => {
    const manifest = JSON.parse(files.get(PERSISTED_DOCUMENTS_FILE) ?? readFileSync(PERSISTED_DOCUMENTS_FILE, "utf8")) as Record<string, string>;
    for (const [hash, text] of Object.entries(manifest)) expect(createHash("sha256").update(text).digest("hex")).toBe(hash);
    const operations = Object.entries(generated).filter(([name]) => name.endsWith("Document")) as [string, { __meta__?: { hash?: string } }][];
    expect(operations.length).toBe(Object.keys(manifest).length);
    for (const [name, document] of operations) {
      const text = manifest[document.__meta__?.hash ?? ""];
      expect(text, name).toBeDefined();
      // The registered text is the operation itself (with its fragments), under its own name.
      const operation = parse(text!).definitions.find((definition) => definition.kind === "OperationDefinition");
      expect(operation && "name" in operation ? `${operation.name?.value}Document` : null).toBe(name);
    }
  });
});
