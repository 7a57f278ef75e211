/**
 * `pnpm compose`: writes schema/supergraph.graphql, its API schema schema/api.graphql and schema/subgraphs/*.graphql
 * from the subgraphs' code.
 * `pnpm compose --check`: writes nothing, exits 1 when a checked-in file is stale.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, relative } from "node:path";
import { CompositionFailed, composeSupergraph } from "./src/supergraph-builder.js";
import { expectedSchemaFiles, staleSchemaFiles } from "./src/schema-files.js";

const checkOnly = process.argv.includes("--check");

try {
  const composed = await composeSupergraph();
  for (const hint of composed.hints) console.warn(`hint: ${hint}`);
  if (checkOnly) {
    const stale = staleSchemaFiles(composed);
    if (stale.length > 0) {
      console.error(`Stale schema files (run pnpm compose):\n${stale.map((p) => `  ${relative(process.cwd(), p)}`).join("\n")}`);
      process.exit(1);
    }
    console.log("schema files are up to date");
  } else {
    for (const [path, content] of expectedSchemaFiles(composed)) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, content);
      console.log(`wrote ${relative(process.cwd(), path)}`);
    }
  }
} catch (error) {
  if (error instanceof CompositionFailed) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
