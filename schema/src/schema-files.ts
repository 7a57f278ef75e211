import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { ComposedSupergraph } from "./supergraph-builder.js";

export const SCHEMA_DIR = fileURLToPath(new URL("..", import.meta.url));
export const SUPERGRAPH_FILE = `${SCHEMA_DIR}supergraph.graphql`;
/** The API schema (no Federation directives): the typed client's code generation reads it. */
export const API_SCHEMA_FILE = `${SCHEMA_DIR}api.graphql`;
export const subgraphFile = (name: string) => `${SCHEMA_DIR}subgraphs/${name}.graphql`;

/** The checked-in files as the composition would write them, path → content. */
export function expectedSchemaFiles(composed: ComposedSupergraph): Map<string, string> {
  const files = new Map<string, string>([
    [SUPERGRAPH_FILE, composed.supergraphSdl],
    [API_SCHEMA_FILE, composed.apiSdl],
  ]);
  for (const { name, sdl } of composed.subgraphs) files.set(subgraphFile(name), sdl);
  return files;
}

/** The checked-in files that differ from what the code produces now. */
export function staleSchemaFiles(composed: ComposedSupergraph): string[] {
  return [...expectedSchemaFiles(composed)]
    .filter(([path, content]) => !existsSync(path) || readFileSync(path, "utf8") !== content)
    .map(([path]) => path);
}
