import { describe, expect, it, vi } from "vitest";
import { SignJWT } from "jose";
import {
  generateContextKeyPair,
  importContextSigningKey,
  importContextVerifyKey,
  TenantContextSigner,
  TenantContextVerifier,
  type SignedInCaller,
} from "@kombify/service-core";

const caller: SignedInCaller = {
  kind: "user",
  userId: "u1",
  email: "u1@example.test",
  name: "U1",
  orgId: "org-1",
  orgName: "Org One",
  roles: ["tenant:owner"],
  tenant: { id: "7a1c1a4e-0000-4000-8000-000000000001", slug: "acme", plan: "PRO" },
};

describe("tenant context between gateway and subgraphs", async () => {
  const keys = await generateContextKeyPair();
  const signer = new TenantContextSigner(await importContextSigningKey(keys.signingKey));
  const stackVerifier = new TenantContextVerifier(await importContextVerifyKey(keys.verifyKey), "stack");

  it("round-trips the caller for the subgraph it was signed for", async () => {
    const token = await signer.sign(caller, "req-1", "stack");
    await expect(stackVerifier.verify(token!)).resolves.toEqual({ outcome: "verified", caller, requestId: "req-1" });
  });

  it("remembers a verified context only until it expires", async () => {
    const token = await signer.sign(caller, "req-cached", "stack");
    await expect(stackVerifier.verify(token!)).resolves.toMatchObject({ outcome: "verified" });
    await expect(stackVerifier.verify(token!)).resolves.toMatchObject({ outcome: "verified", requestId: "req-cached" });
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.now() + 120_000);
      await expect(stackVerifier.verify(token!)).resolves.toMatchObject({ outcome: "rejected", reason: "ERR_JWT_EXPIRED" });
    } finally {
      vi.useRealTimers();
    }
  });

  it("treats a missing context as anonymous", async () => {
    await expect(stackVerifier.verify(undefined)).resolves.toMatchObject({ outcome: "absent", caller: { kind: "anonymous" } });
  });

  it("rejects a context replayed to another subgraph, signed by another key, tampered or expired", async () => {
    const forTenant = await signer.sign(caller, "req-2", "tenant");
    const otherKeys = await generateContextKeyPair();
    const forged = await new TenantContextSigner(await importContextSigningKey(otherKeys.signingKey)).sign(caller, "req-3", "stack");
    const genuine = (await signer.sign(caller, "req-4", "stack"))!;
    const [header, payload, signature] = genuine.split(".");
    const claims = JSON.parse(Buffer.from(payload!, "base64url").toString());
    claims.tenant.slug = "victim";
    const tampered = [header, Buffer.from(JSON.stringify(claims)).toString("base64url"), signature].join(".");
    const expired = await new SignJWT({ email: null, name: null, org: null, roles: [], tenant: null, rid: "r" })
      .setProtectedHeader({ alg: "EdDSA", typ: "kombify-context+jwt" })
      .setSubject("u1")
      .setIssuer("kombify-gateway")
      .setAudience("stack")
      .setIssuedAt(Math.floor(Date.now() / 1000) - 600)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 300)
      .sign(await importContextSigningKey(keys.signingKey));
    for (const token of [forTenant!, forged!, tampered, expired, "garbage", "a.b.c"]) {
      const result = await stackVerifier.verify(token);
      expect(result).toMatchObject({ outcome: "rejected", caller: { kind: "anonymous" } });
    }
  });

  it("signs nothing for anonymous callers", async () => {
    await expect(signer.sign({ kind: "anonymous" }, "req", "stack")).resolves.toBeNull();
  });
});
