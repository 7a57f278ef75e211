import { exportSPKI, importJWK, type CryptoKey, type JWK } from "jose";
import { parseDocument } from "yaml";

export interface JwtSecret {
  key: string;
  algorithm: string;
  rsa_public_key: string;
}

const KONG_ALGORITHMS = new Set(["RS256", "RS384", "RS512", "ES256", "ES384", "PS256", "PS384", "PS512", "EdDSA"]);

/** One Kong jwt credential per signing key of the JWKS, looked up by `kid`. */
export async function jwtSecretsFromJwks(jwks: { keys: JWK[] }): Promise<JwtSecret[]> {
  const secrets: JwtSecret[] = [];
  for (const jwk of jwks.keys) {
    if (jwk.use && jwk.use !== "sig") continue;
    const algorithm = jwk.alg ?? (jwk.kty === "RSA" ? "RS256" : jwk.kty === "EC" ? "ES256" : undefined);
    if (!jwk.kid || !algorithm || !KONG_ALGORITHMS.has(algorithm)) continue;
    const key = await importJWK(jwk, algorithm);
    secrets.push({ key: jwk.kid, algorithm, rsa_public_key: await exportSPKI(key as CryptoKey) });
  }
  if (secrets.length === 0) throw new Error("The JWKS has no usable signing keys (each needs a kid).");
  return secrets;
}

/** The template with the `zitadel` consumer's jwt_secrets set to the current keys. */
export async function renderKongConfig(template: string, jwks: { keys: JWK[] }): Promise<string> {
  const document = parseDocument(template);
  const consumers = document.get("consumers") as { items: { get(key: string): unknown; set(key: string, value: unknown): void }[] };
  const zitadel = consumers.items.find((consumer) => consumer.get("username") === "zitadel");
  if (!zitadel) throw new Error("The template has no `zitadel` consumer.");
  zitadel.set("jwt_secrets", await jwtSecretsFromJwks(jwks));
  return `# Rendered by kong/src/render-kong-config.ts from kong.template.yml; do not edit by hand.\n${document.toString()}`;
}
