import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const MODULE = fileURLToPath(new URL("../src/postgres/embedded-postgres.ts", import.meta.url));

describe("importing the embedded PostgreSQL module", () => {
  it("keeps the process's exit code (embedded-postgres' exit hook used to turn every exit into 0)", () => {
    const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", `await import(${JSON.stringify(MODULE)}); process.exitCode = 3;`], {
      cwd: fileURLToPath(new URL("..", import.meta.url)),
      encoding: "utf8",
    });
    expect(child.stderr).toBe("");
    expect(child.status).toBe(3);
  });
});
