import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { generate, type CodegenConfig } from "@graphql-codegen/cli";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** The API schema `pnpm compose` derives from schema/supergraph.graphql (no Federation directives). */
export const API_SCHEMA_FILE = here("../../../schema/api.graphql");
export const OPERATIONS_GLOB = here("../operations/*.graphql");
export const GENERATED_DIR = here("../src/generated/");
/** Registered documents: `{ "<sha256 hex of the text>": "<text as sent>" }`; the gateway loads this file. */
export const PERSISTED_DOCUMENTS_FILE = `${GENERATED_DIR}persisted-documents.json`;

/** Apollo's APQ wire format: `extensions.persistedQuery.sha256Hash` is the lower-case hex sha256 of the text, unprefixed. */
const sha256Hex = (text: string) => createHash("sha256").update(text).digest("hex");

/**
 * GraphQL Code Generator's client preset over the operations' .graphql files: typed document nodes (results and
 * variables), each carrying its hash in `__meta__.hash`, and the manifest of hash → text.
 */
export const codegenConfig: CodegenConfig = {
  schema: API_SCHEMA_FILE,
  documents: OPERATIONS_GLOB,
  silent: true,
  generates: {
    [GENERATED_DIR]: {
      preset: "client",
      presetConfig: {
        // Fragments are shared selections here, not per-component data masks: results stay plain objects.
        fragmentMasking: false,
        persistedDocuments: { mode: "embedHashInDocument", hashAlgorithm: sha256Hex },
      },
      config: {
        useTypeImports: true,
        strictScalars: true,
        scalars: { DateTime: "string" },
        enumsAsTypes: true,
        importExtension: ".js",
      },
    },
  },
};

/** The generated files as the code generator writes them now, path → content. */
export async function generateClientFiles(): Promise<Map<string, string>> {
  const outputs: { filename: string; content: string }[] = await generate(codegenConfig, false);
  return new Map(outputs.map((output) => [output.filename, output.content]));
}

/** The checked-in generated files that differ from what the generator produces now. */
export function staleClientFiles(files: Map<string, string>): string[] {
  return [...files].filter(([path, content]) => !existsSync(path) || readFileSync(path, "utf8") !== content).map(([path]) => path);
}
