import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalOidcIssuer } from "@kombify/launcher";
import { createLogger } from "@kombify/service-core/logging";
import { AccessTokenVerifier, InvalidTokenError } from "../src/auth/access-token-verifier.js";

/** The verified-token cache never outlives a token nor answers for another one. */
describe("verified access tokens, remembered", () => {
  let issuer: LocalOidcIssuer;
  let verifier: AccessTokenVerifier;

  beforeAll(async () => {
    issuer = await LocalOidcIssuer.start({ audience: "cache-test" });
    verifier = new AccessTokenVerifier(
      { issuer: issuer.issuer, audience: "cache-test", jwksUrl: issuer.jwksUrl, algorithms: ["RS256"], clockToleranceSeconds: 0, platformOrgId: null },
      createLogger("test", "silent"),
    );
  });
  afterAll(() => issuer?.stop());

  it("refuses a remembered token once it has expired", async () => {
    const token = await issuer.mint({ sub: "short-lived", orgId: "org", expiresIn: Math.floor(Date.now() / 1000) + 2 });
    await expect(verifier.verify(token)).resolves.toMatchObject({ userId: "short-lived" });
    await expect(verifier.verify(token)).resolves.toMatchObject({ userId: "short-lived" });
    await new Promise((resolve) => setTimeout(resolve, 2_600));
    await expect(verifier.verify(token)).rejects.toBeInstanceOf(InvalidTokenError);
  });

  it("refuses a token for another audience or issuer, or not yet valid, though a token like it is remembered", async () => {
    const good = await issuer.mint({ sub: "same-user", orgId: "org" });
    await expect(verifier.verify(good)).resolves.toMatchObject({ userId: "same-user" });
    for (const claims of [{ audience: "another-api" }, { issuer: "https://elsewhere.test" }, { notBefore: "10m" }]) {
      const other = await issuer.mint({ sub: "same-user", orgId: "org", ...claims });
      await expect(verifier.verify(other), JSON.stringify(claims)).rejects.toBeInstanceOf(InvalidTokenError);
      await expect(verifier.verify(other), JSON.stringify(claims)).rejects.toBeInstanceOf(InvalidTokenError);
    }
    // A tampered copy of the remembered token (its signature's last character changed) is another token.
    const tampered = `${good.slice(0, -2)}${good.at(-2) === "A" ? "B" : "A"}${good.at(-1)}`;
    await expect(verifier.verify(tampered)).rejects.toBeInstanceOf(InvalidTokenError);
  });
});
