/**
 * `pnpm codegen` (`pnpm --filter @kombify/client codegen`): writes src/generated/ from schema/api.graphql and
 * operations/*.graphql. `--check`: writes nothing, exits 1 when a checked-in file is stale.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, relative } from "node:path";
import { generateClientFiles, staleClientFiles } from "./client-codegen.js";

const files = await generateClientFiles();
if (process.argv.includes("--check")) {
  const stale = staleClientFiles(files);
  if (stale.length > 0) {
    console.error(`Stale generated client files (run pnpm codegen):\n${stale.map((path) => `  ${relative(process.cwd(), path)}`).join("\n")}`);
    process.exit(1);
  }
  console.log("generated client files are up to date");
} else {
  for (const [path, content] of files) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    console.log(`wrote ${relative(process.cwd(), path)}`);
  }
}
