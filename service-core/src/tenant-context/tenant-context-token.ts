import { createHash, KeyObject as NodeKeyObject, sign as signWithNode } from "node:crypto";
import { importPKCS8, importSPKI, jwtVerify, errors as joseErrors, type CryptoKey, type KeyObject } from "jose";
import { z } from "zod";
import { ALL_ROLES, ANONYMOUS, type Caller, type Role } from "../auth/caller.js";
import { PLAN_TIERS } from "../auth/plan-tier.js";

/**
 * The gateway's signed statement of who is calling, for which tenant, meant for one subgraph.
 * Subgraphs trust nothing else: bare X-Tenant-ID / X-User-* headers mean nothing to them.
 */
export const TENANT_CONTEXT_HEADER = "x-kombify-context";
/** Where the same signed context travels on a graphql-ws subscribe message (`payload.extensions`). */
export const TENANT_CONTEXT_EXTENSION = "kombifyContext";
const ISSUER = "kombify-gateway";
const ALGORITHM = "EdDSA";
/** How long a signed context is valid; a holder may reuse one while enough of it is left. */
export const TENANT_CONTEXT_LIFETIME_SECONDS = 60;

type Key = CryptoKey | KeyObject;

export const importContextSigningKey = (pem: string): Promise<Key> => importPKCS8(pem, ALGORITHM);
export const importContextVerifyKey = (pem: string): Promise<Key> => importSPKI(pem, ALGORITHM);

/**
 * Which operation a context is good for: sha256 of the exact operation text sent to the subgraph, base64url.
 * Branded, so that raw query text cannot be passed where the hash belongs.
 */
export type OperationHash = string & { readonly __operationHash: true };

export function operationHash(operation: string): OperationHash {
  return createHash("sha256").update(operation).digest("base64url") as OperationHash;
}

/*
 * Claims: iss, aud (the one subgraph), iat, exp (60 s), rid (the gateway's request id), op (operationHash of the
 * operation text the subgraph receives) or ops (the hashes of every operation one request's plan sends to that
 * subgraph: one context per subgraph per request, however many fetches) and kind. A "user" context adds sub, email, name, org, orgName, roles and
 * tenant; an "anonymous" one says only that an anonymous caller's request came through the gateway.
 *
 * Why op-hash binding: a context is a bearer token, and whoever could read the gateway's traffic to a subgraph
 * could replay it. Bound to the operation text, its audience and a 60 s life, a replay can only run again, as that
 * caller, an operation the gateway itself sent for them. Variables are not bound: a subscription group's entity
 * fetches differ per event only in their representations. Single-use ids (a replay cache of `jti`s) were not
 * chosen: a subscription group deliberately reuses one context for every event fetch of one operation, and a
 * replay cache per subgraph replica would need state shared between replicas to mean anything.
 */
/** W3C trace context of the gateway's fetch span: in the signed context, so only the gateway can place a subgraph's spans. */
const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
/** `op`: the one operation a context is good for; `ops`: the several operations one request sends to the subgraph. */
const operationClaims = { op: z.string().min(1).optional(), ops: z.array(z.string().min(1)).min(1).max(100).optional() };
/** `ip`: the client's address as the gateway counts it, for limits a subgraph keeps per client (tenant creation). */
const commonClaims = { rid: z.string(), ...operationClaims, tp: z.string().regex(TRACEPARENT).optional(), ip: z.string().min(1).max(64).optional() };
const claimsSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("anonymous"), ...commonClaims }),
  z.object({
    kind: z.literal("user"),
    ...commonClaims,
    sub: z.string().min(1),
    email: z.string().nullable(),
    name: z.string().nullable(),
    org: z.string().nullable(),
    orgName: z.string().nullable(),
    roles: z.array(z.enum(ALL_ROLES as [Role, ...Role[]])),
    tenant: z.object({ id: z.string().min(1), slug: z.string().min(1), plan: z.enum(PLAN_TIERS) }).nullable(),
  }),
]);

/** The protected header every context carries, encoded once. */
const PROTECTED_HEADER = Buffer.from(JSON.stringify({ alg: ALGORITHM, typ: "kombify-context+jwt" })).toString("base64url");

export class TenantContextSigner {
  /** The Ed25519 key as node:crypto takes it: a context is signed on the spot, with no WebCrypto round trip. */
  private readonly key: NodeKeyObject;

  constructor(key: Key) {
    this.key = key instanceof NodeKeyObject ? key : NodeKeyObject.from(key as globalThis.CryptoKey);
  }

  /**
   * A short-lived JWS for one subgraph (`aud`) and one operation (`op`), so a context captured at one subgraph is
   * useless at another, and one captured for one operation is useless for any other. Anonymous callers get one
   * too: it is how a subgraph tells a call through the gateway from a direct one. A compact JWS (EdDSA) any JOSE
   * library verifies, written directly: the gateway signs one per subgraph per request, and a general-purpose JWT
   * builder cost several times the signature itself.
   */
  sign(caller: Caller, requestId: string, subgraph: string, operation: OperationHash | readonly OperationHash[], traceparent?: string, clientAddress?: string): Promise<string> {
    const issuedAt = Math.floor(Date.now() / 1000);
    const claims =
      caller.kind === "user"
        ? {
            kind: "user",
            email: caller.email,
            name: caller.name,
            org: caller.orgId,
            orgName: caller.orgName,
            roles: caller.roles,
            tenant: caller.tenant,
            sub: caller.userId,
          }
        : { kind: "anonymous" };
    const operations = typeof operation === "string" ? { op: operation } : operation.length === 1 ? { op: operation[0] } : { ops: [...operation] };
    const payload = {
      ...claims,
      rid: requestId,
      ...operations,
      ...(traceparent ? { tp: traceparent } : {}),
      ...(clientAddress ? { ip: clientAddress } : {}),
      iss: ISSUER,
      aud: subgraph,
      iat: issuedAt,
      exp: issuedAt + TENANT_CONTEXT_LIFETIME_SECONDS,
    };
    const signingInput = `${PROTECTED_HEADER}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}`;
    return Promise.resolve(`${signingInput}.${signWithNode(null, Buffer.from(signingInput), this.key).toString("base64url")}`);
  }
}

/**
 * absent: no context (a direct caller); verified: the gateway sent this operation, for this caller (who may be
 * anonymous); rejected: a context that is forged, expired, for another subgraph or for another operation.
 * Only a verified context makes a caller anything but anonymous.
 */
export type ContextVerification =
  | { outcome: "absent"; caller: Caller }
  | { outcome: "verified"; caller: Caller; requestId: string; traceparent?: string; clientAddress?: string }
  | { outcome: "rejected"; caller: Caller; reason: string };

/** The reason of a rejection for a valid context presented with another operation than the one it was signed for. */
export const OPERATION_MISMATCH = "operation mismatch";

export class TenantContextVerifier {
  /**
   * Contexts already verified, until they expire: the gateway reuses a signed context for a subscription
   * group's fetches, and an Ed25519 verification per event was a quarter of a busy subgraph's CPU.
   */
  private readonly verified = new Map<string, { verification: ContextVerification; operations: ReadonlySet<string>; expiresAt: number }>();

  constructor(
    private readonly key: Key,
    private readonly subgraph: string,
    private readonly cacheSize = 10_000,
  ) {}

  /**
   * Anything but a valid context signed for this subgraph and for `operation` (the exact operation text
   * received) makes the caller anonymous. Signatures are checked once per token; the operation on every call.
   */
  async verify(token: string | undefined, operation: string): Promise<ContextVerification> {
    if (!token) return { outcome: "absent", caller: ANONYMOUS };
    let entry = this.verified.get(token);
    if (entry && entry.expiresAt <= Date.now()) {
      this.verified.delete(token);
      entry = undefined;
    }
    if (!entry) {
      const checked = await this.verifySignature(token);
      if (checked.verification.outcome !== "verified") return checked.verification;
      entry = checked;
      if (this.verified.size >= this.cacheSize) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(token, entry);
    }
    if (!entry.operations.has(operationHash(operation))) return { outcome: "rejected", caller: ANONYMOUS, reason: OPERATION_MISMATCH };
    return entry.verification;
  }

  private async verifySignature(token: string): Promise<{ verification: ContextVerification; operations: ReadonlySet<string>; expiresAt: number }> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        issuer: ISSUER,
        audience: this.subgraph,
        algorithms: [ALGORITHM],
        clockTolerance: 5,
        typ: "kombify-context+jwt",
      });
      const claims = claimsSchema.parse(payload);
      const caller: Caller =
        claims.kind === "anonymous"
          ? ANONYMOUS
          : {
              kind: "user",
              userId: claims.sub,
              email: claims.email,
              name: claims.name,
              orgId: claims.org,
              orgName: claims.orgName,
              roles: claims.roles,
              tenant: claims.tenant,
            };
      const verification: ContextVerification = {
        outcome: "verified",
        requestId: claims.rid,
        caller,
        ...(claims.tp ? { traceparent: claims.tp } : {}),
        ...(claims.ip ? { clientAddress: claims.ip } : {}),
      };
      const operations = new Set(claims.ops ?? (claims.op ? [claims.op] : []));
      if (operations.size === 0) throw new TypeError("no operation");
      return { verification, operations, expiresAt: (payload.exp ?? 0) * 1000 };
    } catch (error) {
      const reason = error instanceof joseErrors.JOSEError ? error.code : "malformed claims";
      return { verification: { outcome: "rejected", caller: ANONYMOUS, reason }, operations: new Set(), expiresAt: 0 };
    }
  }
}
