import { createRequire } from "node:module";
import { defineConfig } from "vitest/config";

const require = createRequire(import.meta.url);

/**
 * Three tiers, each runnable alone (`pnpm test:unit`, `pnpm test:integration`, `pnpm test:e2e`); `pnpm test`
 * runs them all. The file name says the tier: `*.unit.test.ts` start nothing (seconds); `*.e2e.test.ts` and
 * `*.browser.test.ts` run real processes (the launcher, a runner crash, Docker, Chromium); every other
 * `*.test.ts` is an integration test, in-process against the run's real PostgreSQL and PocketBase.
 */
const STORES = ["./testkit/src/global-setup.ts"];
const UNIT = "**/test/**/*.unit.test.ts";
const END_TO_END = ["**/test/**/*.e2e.test.ts", "**/test/**/*.browser.test.ts"];

export default defineConfig({
  resolve: {
    // One graphql module instance for the whole run ("Cannot use GraphQLSchema from another module or realm").
    alias: [{ find: /^graphql$/, replacement: require.resolve("graphql") }],
  },
  test: {
    exclude: ["**/node_modules/**"],
    testTimeout: 30_000,
    hookTimeout: 90_000,
    pool: "forks",
    maxWorkers: 2,
    reporters: ["default"],
    projects: [
      { extends: true, test: { name: "unit", include: [UNIT] } },
      { extends: true, test: { name: "integration", include: ["**/test/**/*.test.ts"], exclude: ["**/node_modules/**", UNIT, ...END_TO_END], globalSetup: STORES } },
      { extends: true, test: { name: "e2e", include: END_TO_END, globalSetup: STORES } },
    ],
  },
});
