import { existsSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";

/** Debian's Chromium (`apt-get install chromium`); `.ci/run` installs it. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Whether browser tests can run here; under CI they must (a missing browser fails, never skips). */
export function browserAvailable(): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  if (process.env.CI) throw new Error(`Chromium is missing at ${CHROMIUM_PATH}: .ci/run installs Debian's chromium package.`);
  return false;
}

/**
 * Headless Chromium with the flags that keep it from calling outside hosts (this network refuses them), see the
 * field notes. Each test gets its own empty profile.
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/**
 * Aborts every request a page makes to anything but loopback and records it: a page that works with this in
 * place needs nothing from outside the machine (no CDN, no web font).
 */
export async function blockNonLoopback(page: Page): Promise<string[]> {
  const blocked: string[] = [];
  await page.route("**/*", (route) => {
    const url = new URL(route.request().url());
    const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname) || url.protocol === "data:" || url.protocol === "blob:";
    if (loopback) return route.continue();
    blocked.push(url.toString());
    return route.abort();
  });
  return blocked;
}
