/** Prints a fresh docker/.env body: database and PocketBase passwords, the tenant-context key pair, a download secret. */
import { randomBytes } from "node:crypto";
import { generateContextKeyPair } from "@kombify/launcher";

const secret = () => randomBytes(24).toString("base64url");
const keys = await generateContextKeyPair();
const pem = (value: string) => `"${value.trim().replace(/\n/g, "\\n")}"`;
process.stdout.write(
  [
    `POSTGRES_PASSWORD=${secret()}`,
    `POCKETBASE_SUPERUSER_PASSWORD=${secret()}`,
    `STACKKIT_DOWNLOAD_SECRET=${secret()}${secret()}`,
    `CONTEXT_SIGNING_KEY=${pem(keys.signingKey)}`,
    `CONTEXT_VERIFY_KEY=${pem(keys.verifyKey)}`,
    "OIDC_ISSUER=",
    "OIDC_AUDIENCE=",
    "PLATFORM_ORG_ID=",
    "",
  ].join("\n"),
);
