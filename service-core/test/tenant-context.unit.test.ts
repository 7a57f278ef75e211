import { describe, expect, it, vi } from "vitest";
import { SignJWT } from "jose";
import { generateContextKeyPair } from "@kombify/launcher";
import { importContextSigningKey, importContextVerifyKey, operationHash, TenantContextSigner, TenantContextVerifier } from "@kombify/service-core/tenant-context";
import type { SignedInCaller } from "@kombify/service-core/auth";

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

const QUERY = "{ stacks { id } }";
const OP = operationHash(QUERY);

describe("tenant context between gateway and subgraphs", async () => {
  const keys = await generateContextKeyPair();
  const signer = new TenantContextSigner(await importContextSigningKey(keys.signingKey));
  const stackVerifier = new TenantContextVerifier(await importContextVerifyKey(keys.verifyKey), "stack");

  it("round-trips the caller for the subgraph and operation it was signed for", async () => {
    const token = await signer.sign(caller, "req-1", "stack", OP);
    await expect(stackVerifier.verify(token, QUERY)).resolves.toEqual({ outcome: "verified", caller, requestId: "req-1" });
  });

  it("carries the client's address when the gateway names it, for limits a subgraph keeps per client", async () => {
    const token = await signer.sign(caller, "req-ip", "stack", OP, undefined, "2001:db8:1:2::/64");
    await expect(stackVerifier.verify(token, QUERY)).resolves.toEqual({ outcome: "verified", caller, requestId: "req-ip", clientAddress: "2001:db8:1:2::/64" });
  });

  it("remembers a verified context only until it expires", async () => {
    const token = await signer.sign(caller, "req-cached", "stack", OP);
    await expect(stackVerifier.verify(token, QUERY)).resolves.toMatchObject({ outcome: "verified" });
    await expect(stackVerifier.verify(token, QUERY)).resolves.toMatchObject({ outcome: "verified", requestId: "req-cached" });
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.now() + 120_000);
      await expect(stackVerifier.verify(token, QUERY)).resolves.toMatchObject({ outcome: "rejected", reason: "ERR_JWT_EXPIRED" });
    } finally {
      vi.useRealTimers();
    }
  });

  it("treats a missing context as anonymous", async () => {
    await expect(stackVerifier.verify(undefined, QUERY)).resolves.toMatchObject({ outcome: "absent", caller: { kind: "anonymous" } });
  });

  it("rejects a context replayed to another subgraph, signed by another key, tampered or expired", async () => {
    const forTenant = await signer.sign(caller, "req-2", "tenant", OP);
    const otherKeys = await generateContextKeyPair();
    const forged = await new TenantContextSigner(await importContextSigningKey(otherKeys.signingKey)).sign(caller, "req-3", "stack", OP);
    const genuine = await signer.sign(caller, "req-4", "stack", OP);
    const [header, payload, signature] = genuine.split(".");
    const claims = JSON.parse(Buffer.from(payload!, "base64url").toString());
    claims.tenant.slug = "victim";
    const tampered = [header, Buffer.from(JSON.stringify(claims)).toString("base64url"), signature].join(".");
    const expired = await new SignJWT({ kind: "user", email: null, name: null, org: null, orgName: null, roles: [], tenant: null, rid: "r", op: OP })
      .setProtectedHeader({ alg: "EdDSA", typ: "kombify-context+jwt" })
      .setSubject("u1")
      .setIssuer("kombify-gateway")
      .setAudience("stack")
      .setIssuedAt(Math.floor(Date.now() / 1000) - 600)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 300)
      .sign(await importContextSigningKey(keys.signingKey));
    for (const token of [forTenant, forged, tampered, expired, "garbage", "a.b.c"]) {
      const result = await stackVerifier.verify(token, QUERY);
      expect(result).toMatchObject({ outcome: "rejected", caller: { kind: "anonymous" } });
    }
  });

  it("rejects a genuine context presented with another operation than the one it was signed for, cached or not", async () => {
    const token = await signer.sign(caller, "req-5", "stack", OP);
    const other = '{ stack(id: "someone-elses") { id } }';
    await expect(stackVerifier.verify(token, other)).resolves.toEqual({ outcome: "rejected", caller: { kind: "anonymous" }, reason: "operation mismatch" });
    await expect(stackVerifier.verify(token, QUERY)).resolves.toMatchObject({ outcome: "verified", caller });
    await expect(stackVerifier.verify(token, `${QUERY} `)).resolves.toMatchObject({ outcome: "rejected", reason: "operation mismatch" });
  });

  it("verifies a request's one context for a subgraph for each operation it names (ops), and for no other", async () => {
    const second = '{ stacks { id } }';
    const token = await signer.sign(caller, "req-ops", "stack", [OP, operationHash(second)]);
    expect(JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString())).toMatchObject({ ops: [OP, operationHash(second)] });
    await expect(stackVerifier.verify(token, QUERY)).resolves.toMatchObject({ outcome: "verified", caller, requestId: "req-ops" });
    await expect(stackVerifier.verify(token, second)).resolves.toMatchObject({ outcome: "verified", caller });
    await expect(stackVerifier.verify(token, '{ nodes { id } }')).resolves.toMatchObject({ outcome: "rejected", reason: "operation mismatch" });
  });

  it("rejects a signed context without an operation hash", async () => {
    const unbound = await new SignJWT({ kind: "user", email: null, name: null, org: null, orgName: null, roles: [], tenant: null, rid: "r" })
      .setProtectedHeader({ alg: "EdDSA", typ: "kombify-context+jwt" })
      .setSubject("u1")
      .setIssuer("kombify-gateway")
      .setAudience("stack")
      .setIssuedAt()
      .setExpirationTime("60s")
      .sign(await importContextSigningKey(keys.signingKey));
    await expect(stackVerifier.verify(unbound, QUERY)).resolves.toMatchObject({ outcome: "rejected", reason: "malformed claims" });
  });

  it("signs anonymous callers a context that verifies as anonymous, through the gateway, for its request", async () => {
    const token = await signer.sign({ kind: "anonymous" }, "req-anon", "stack", OP);
    const claims = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString());
    expect(claims).toMatchObject({ kind: "anonymous", rid: "req-anon", op: OP, aud: "stack" });
    expect(claims.sub).toBeUndefined();
    await expect(stackVerifier.verify(token, QUERY)).resolves.toEqual({ outcome: "verified", caller: { kind: "anonymous" }, requestId: "req-anon" });
  });
});
