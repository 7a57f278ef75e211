import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { importSPKI, jwtVerify } from "jose";
import { parse } from "yaml";
import { LocalOidcIssuer } from "@kombify/launcher";
import { renderKongConfig } from "../src/render-kong-config.js";

describe("Kong config rendered from the issuer's JWKS", () => {
  it("gives Kong one credential per published key, each verifying tokens of that key", async () => {
    const issuer = await LocalOidcIssuer.start({ audience: "kong-test" });
    try {
      await issuer.rotateKey();
      const token = await issuer.mint({ sub: "u1" });
      const jwks = (await (await fetch(issuer.jwksUrl)).json()) as { keys: { kid: string }[] };
      const template = readFileSync(fileURLToPath(new URL("../kong.template.yml", import.meta.url)), "utf8");
      const config = parse(await renderKongConfig(template, jwks));

      const secrets = config.consumers.find((c: { username: string }) => c.username === "zitadel").jwt_secrets;
      expect(secrets.map((s: { key: string }) => s.key)).toEqual(jwks.keys.map((k) => k.kid));
      const kid = JSON.parse(Buffer.from(token.split(".")[0]!, "base64url").toString()).kid;
      const secret = secrets.find((s: { key: string }) => s.key === kid);
      await expect(jwtVerify(token, await importSPKI(secret.rsa_public_key, "RS256"))).resolves.toBeTruthy();

      const graphRoute = config.services[0].routes[0];
      expect(graphRoute.plugins[0]).toMatchObject({ name: "jwt", config: { key_claim_name: "kid", anonymous: "anonymous" } });
      expect(config.plugins.map((p: { name: string }) => p.name)).toEqual(["correlation-id", "cors", "rate-limiting", "request-transformer"]);
    } finally {
      await issuer.stop();
    }
  });

  it("routes Stripe's webhook to the billing subgraph without a JWT (Stripe signs it), body and signature untouched", () => {
    const config = parse(readFileSync(fileURLToPath(new URL("../kong.template.yml", import.meta.url)), "utf8"));
    const stripe = config.services.find((s: { name: string }) => s.name === "stripe-webhooks");
    expect(stripe.url).toBe("http://billing:4006/webhooks/stripe");
    expect(stripe.routes).toEqual([{ name: "stripe-webhooks", paths: ["/webhooks/stripe"], strip_path: true, methods: ["POST"] }]);
    expect(stripe.plugins ?? []).toEqual([]);
    expect(stripe.routes[0].plugins ?? []).toEqual([]);
    // The only global plugin that touches requests removes headers, never Stripe-Signature, and leaves the body alone.
    const transformer = config.plugins.find((p: { name: string }) => p.name === "request-transformer").config;
    expect(Object.keys(transformer)).toEqual(["remove"]);
    expect(Object.keys(transformer.remove)).toEqual(["headers"]);
    expect(transformer.remove.headers.map((h: string) => h.toLowerCase())).not.toContain("stripe-signature");
  });
});
