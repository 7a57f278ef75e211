import { importPKCS8, importSPKI, jwtVerify, SignJWT, errors as joseErrors, type CryptoKey, type KeyObject } from "jose";
import { z } from "zod";
import { ALL_ROLES, ANONYMOUS, type Caller, type Role } from "../auth/caller.js";
import { PLAN_TIERS } from "../plans/plan-tier.js";

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

const claimsSchema = z.object({
  sub: z.string().min(1),
  email: z.string().nullable(),
  name: z.string().nullable(),
  org: z.string().nullable(),
  orgName: z.string().nullable(),
  roles: z.array(z.enum(ALL_ROLES as [Role, ...Role[]])),
  tenant: z.object({ id: z.string().min(1), slug: z.string().min(1), plan: z.enum(PLAN_TIERS) }).nullable(),
  rid: z.string(),
});

export class TenantContextSigner {
  constructor(private readonly key: Key) {}

  /** A short-lived JWS for one subgraph (`aud`), so a context captured at one subgraph is useless at another. */
  sign(caller: Caller, requestId: string, subgraph: string): Promise<string | null> {
    if (caller.kind !== "user") return Promise.resolve(null);
    return new SignJWT({
      email: caller.email,
      name: caller.name,
      org: caller.orgId,
      orgName: caller.orgName,
      roles: caller.roles,
      tenant: caller.tenant,
      rid: requestId,
    })
      .setProtectedHeader({ alg: ALGORITHM, typ: "kombify-context+jwt" })
      .setSubject(caller.userId)
      .setIssuer(ISSUER)
      .setAudience(subgraph)
      .setIssuedAt()
      .setExpirationTime(`${TENANT_CONTEXT_LIFETIME_SECONDS}s`)
      .sign(this.key);
  }
}

export type ContextVerification =
  | { outcome: "absent"; caller: Caller }
  | { outcome: "verified"; caller: Caller; requestId: string }
  | { outcome: "rejected"; caller: Caller; reason: string };

export class TenantContextVerifier {
  /**
   * Contexts already verified, until they expire: the gateway reuses a signed context for a subscription
   * group's fetches, and an Ed25519 verification per event was a quarter of a busy subgraph's CPU.
   */
  private readonly verified = new Map<string, { verification: ContextVerification; expiresAt: number }>();

  constructor(
    private readonly key: Key,
    private readonly subgraph: string,
    private readonly cacheSize = 10_000,
  ) {}

  /** Anything but a valid context signed for this subgraph makes the caller anonymous. */
  async verify(token: string | undefined): Promise<ContextVerification> {
    if (!token) return { outcome: "absent", caller: ANONYMOUS };
    const cached = this.verified.get(token);
    if (cached && cached.expiresAt > Date.now()) return cached.verification;
    if (cached) this.verified.delete(token);
    const { verification, expiresAt } = await this.verifySignature(token);
    if (verification.outcome === "verified") {
      if (this.verified.size >= this.cacheSize) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(token, { verification, expiresAt });
    }
    return verification;
  }

  private async verifySignature(token: string): Promise<{ verification: ContextVerification; expiresAt: number }> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        issuer: ISSUER,
        audience: this.subgraph,
        algorithms: [ALGORITHM],
        clockTolerance: 5,
        typ: "kombify-context+jwt",
      });
      const claims = claimsSchema.parse(payload);
      const verification: ContextVerification = {
        outcome: "verified",
        requestId: claims.rid,
        caller: {
          kind: "user",
          userId: claims.sub,
          email: claims.email,
          name: claims.name,
          orgId: claims.org,
          orgName: claims.orgName,
          roles: claims.roles,
          tenant: claims.tenant,
        },
      };
      return { verification, expiresAt: (payload.exp ?? 0) * 1000 };
    } catch (error) {
      const reason = error instanceof joseErrors.JOSEError ? error.code : "malformed claims";
      return { verification: { outcome: "rejected", caller: ANONYMOUS, reason }, expiresAt: 0 };
    }
  }
}
