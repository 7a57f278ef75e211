import { existsSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { InlineConfig } from "vite";

/** The dashboard package's folder; `web/` holds the browser app, `dist/` its build (git-ignored). */
export const DASHBOARD_ROOT = fileURLToPath(new URL("../", import.meta.url));
export const DASHBOARD_WEB = join(DASHBOARD_ROOT, "web");
export const DASHBOARD_DIST = join(DASHBOARD_ROOT, "dist");

/** What a build depends on: the app, this file (the Vite settings) and the package's dependency ranges. */
const SOURCES = [DASHBOARD_WEB, fileURLToPath(import.meta.url), join(DASHBOARD_ROOT, "package.json")];

/**
 * Vite's settings for the dashboard, shared by `build()` here and `vite.config.ts` (the dev server). Assets get
 * relative URLs, so the built app works under any path; nothing is fetched from outside (no CDN, no web font).
 */
export async function dashboardViteConfig(outDir: string = DASHBOARD_DIST): Promise<InlineConfig> {
  const { default: react } = await import("@vitejs/plugin-react");
  return {
    configFile: false,
    root: DASHBOARD_WEB,
    base: "./",
    logLevel: "warn",
    clearScreen: false,
    plugins: [react()],
    build: { outDir, emptyOutDir: true, target: "es2022", sourcemap: false, reportCompressedSize: false },
  };
}

function newestChange(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestChange(join(path, entry)));
  return newest;
}

/** True when `distDir` holds a build at least as new as every source file (so `pnpm start` can skip building). */
export function dashboardBuildIsCurrent(distDir: string = DASHBOARD_DIST): boolean {
  const index = join(distDir, "index.html");
  if (!existsSync(index)) return false;
  return statSync(index).mtimeMs >= Math.max(...SOURCES.map(newestChange));
}

let staging = 0;

/**
 * Builds the app into `outDir` with Vite's JS API. The build goes to a sibling folder first and replaces `outDir`
 * in two renames, so a server reading `outDir` (or a second launcher building at the same time) never sees half
 * a build.
 */
export async function buildDashboard(outDir: string = DASHBOARD_DIST): Promise<string> {
  const { build } = await import("vite");
  const suffix = `${process.pid}-${Date.now()}-${staging++}`;
  const next = join(dirname(outDir), `.dist-build-${suffix}`);
  const old = join(dirname(outDir), `.dist-old-${suffix}`);
  try {
    await build(await dashboardViteConfig(next));
    if (existsSync(outDir)) renameSync(outDir, old);
    try {
      renameSync(next, outDir);
    } catch (error) {
      // Another build landed first: it is as good as ours.
      if (!existsSync(join(outDir, "index.html"))) throw error;
    }
  } finally {
    rmSync(next, { recursive: true, force: true });
    rmSync(old, { recursive: true, force: true });
  }
  return outDir;
}

/** Builds only when the sources changed since the last build (or there is none); says which happened. */
export async function ensureDashboardBuilt(outDir: string = DASHBOARD_DIST): Promise<"built" | "current"> {
  if (dashboardBuildIsCurrent(outDir)) return "current";
  await buildDashboard(outDir);
  return "built";
}
