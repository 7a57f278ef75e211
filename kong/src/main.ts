import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { renderKongConfig } from "./render-kong-config.js";

const issuer = process.env.OIDC_ISSUER;
const jwksUrl = process.env.OIDC_JWKS_URL ?? (issuer ? `${issuer.replace(/\/$/, "")}/oauth/v2/keys` : undefined);
if (!jwksUrl) {
  process.stderr.write("Set OIDC_ISSUER (or OIDC_JWKS_URL) to the Zitadel issuer whose keys Kong should accept.\n");
  process.exit(78);
}
const template = readFileSync(fileURLToPath(new URL("../kong.template.yml", import.meta.url)), "utf8");
const response = await fetch(jwksUrl);
if (!response.ok) {
  process.stderr.write(`Fetching ${jwksUrl} answered ${response.status}.\n`);
  process.exit(1);
}
const output = fileURLToPath(new URL("../kong.yml", import.meta.url));
writeFileSync(output, await renderKongConfig(template, (await response.json()) as { keys: [] }));
process.stdout.write(`wrote ${output}\n`);
