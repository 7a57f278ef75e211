import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateContextKeyPair, type ContextKeyPair } from "./context-key-pair.js";

/**
 * The key pair for tenant contexts: from CONTEXT_SIGNING_KEY / CONTEXT_VERIFY_KEY when both are set,
 * else generated once and kept in the data directory (readable by its owner only).
 */
export async function loadOrCreateContextKeys(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<ContextKeyPair> {
  if (env.CONTEXT_SIGNING_KEY && env.CONTEXT_VERIFY_KEY) {
    return { signingKey: env.CONTEXT_SIGNING_KEY, verifyKey: env.CONTEXT_VERIFY_KEY };
  }
  const file = join(dataDir, "context-keys.json");
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as ContextKeyPair;
  const keys = await generateContextKeyPair();
  writeFileSync(file, JSON.stringify(keys), { mode: 0o600 });
  return keys;
}
