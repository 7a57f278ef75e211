import { errors as joseErrors, jwtVerify, type JWTPayload } from "jose";
import { LRUCache } from "lru-cache";
import { z } from "zod";
import type { Logger } from "@kombify/service-core/logging";
import { ALL_ROLES, Role, type SignedInCaller } from "@kombify/service-core/auth";
import { JwksCache, JwksUnavailableError, type JwksCacheOptions } from "./jwks-cache.js";

export const ZITADEL_ORG_CLAIM = "urn:zitadel:iam:user:resourceowner:id";
export const ZITADEL_ORG_NAME_CLAIM = "urn:zitadel:iam:user:resourceowner:name";
export const ZITADEL_ROLES_CLAIM = "urn:zitadel:iam:org:project:roles";

/** Who the verified token says is calling, before the tenant is resolved, and until when. */
export type VerifiedIdentity = Omit<SignedInCaller, "kind" | "tenant"> & {
  /** When the token stops being valid (from `exp`). */
  expiresAt: Date;
};

export interface AccessTokenVerifierOptions {
  issuer: string;
  audience: string;
  jwksUrl: string;
  algorithms: string[];
  /** Seconds of clock skew tolerated on exp/nbf. @default 30 */
  clockToleranceSeconds?: number;
  /**
   * The platform's own Zitadel organisation: `platform:admin` counts only when this organisation granted it.
   * null: no organisation can grant it (nobody is a platform admin).
   */
  platformOrgId: string | null;
  jwks?: JwksCacheOptions;
}

export class InvalidTokenError extends Error {}
/** The token is genuine but a claim we would store or echo is unusable (an e-mail that is none, a control character). */
export class InvalidClaimError extends Error {}
export { JwksUnavailableError };

/** Verifies Zitadel access tokens against the issuer's JWKS, with issuer, audience and algorithms pinned. */
export class AccessTokenVerifier {
  private readonly jwks: JwksCache;
  /** Tokens whose ignored role grants were logged already: a client sends one token many times. */
  private readonly loggedIgnoredGrants = new LRUCache<string, true>({ max: 10_000 });
  /**
   * Tokens already verified, until they expire: a client sends one token with every request for its lifetime, and
   * a signature check per request was the largest part of what the gateway adds to a signed-in call. Bounded by
   * the tokens' size; a token that failed is checked again every time.
   */
  private readonly verified = new LRUCache<string, VerifiedIdentity>({ maxSize: 8 * 1024 * 1024, sizeCalculation: (_identity, token) => token.length });

  constructor(
    private readonly options: AccessTokenVerifierOptions,
    private readonly log: Logger,
  ) {
    this.jwks = new JwksCache(options.jwksUrl, log, options.jwks);
  }

  async verify(token: string): Promise<VerifiedIdentity> {
    const known = this.verified.get(token);
    if (known && known.expiresAt.getTime() > Date.now()) return known;
    const identity = await this.verifyAnew(token);
    const ttl = identity.expiresAt.getTime() - Date.now();
    if (ttl > 0) this.verified.set(token, identity, { ttl });
    return identity;
  }

  private async verifyAnew(token: string): Promise<VerifiedIdentity> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.jwks.getKey, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: this.options.algorithms,
        clockTolerance: this.options.clockToleranceSeconds ?? 30,
        requiredClaims: ["sub", "exp"],
      }));
    } catch (error) {
      if (error instanceof JwksUnavailableError) throw error;
      throw new InvalidTokenError(describeJoseError(error));
    }
    const claimProblem = unusableClaim(payload);
    if (claimProblem) throw new InvalidClaimError(claimProblem);
    const { identity, ignoredGrants } = identityFromClaims(payload, this.options.platformOrgId);
    if (ignoredGrants.length > 0 && !this.loggedIgnoredGrants.has(token)) {
      this.loggedIgnoredGrants.set(token, true);
      this.log.warn({ userId: identity.userId, orgId: identity.orgId, ignoredGrants }, "ignored role grants from an organisation that may not grant them");
    }
    return identity;
  }
}

function describeJoseError(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return "The access token has expired.";
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `The access token's ${error.claim} claim is not accepted.`;
  if (error instanceof joseErrors.JWKSNoMatchingKey) return "The access token is signed with an unknown key.";
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return "The access token's signing algorithm is not accepted.";
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return "The access token's signature is invalid.";
  return "The access token is malformed or not accepted.";
}

/** C0, DEL and C1: terminal escapes and line breaks (U+0085) that no name or id needs. */
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;
const emailShape = z.email();
const TEXT_CLAIMS: [name: string, maxLength: number][] = [
  // 200: what PocketBase's namespace users keep of it (zitadel_sub).
  ["sub", 200],
  ["name", 200],
  ["preferred_username", 200],
  [ZITADEL_ORG_CLAIM, 128],
  [ZITADEL_ORG_NAME_CLAIM, 200],
];

/** What is wrong with a claim that identities, audit rows and PocketBase users are made from, if anything. */
function unusableClaim(payload: JWTPayload): string | null {
  for (const [name, maxLength] of TEXT_CLAIMS) {
    const value = payload[name];
    if (value === undefined || value === null) continue;
    if (typeof value !== "string") return `The access token's ${name} claim must be a string.`;
    if (CONTROL_CHARACTER.test(value)) return `The access token's ${name} claim contains a control character.`;
    if (value.length > maxLength) return `The access token's ${name} claim is longer than ${maxLength} characters.`;
  }
  const email = payload.email;
  if (email !== undefined && email !== null && (typeof email !== "string" || !emailShape.safeParse(email).success)) {
    return "The access token's email claim is not an e-mail address.";
  }
  return null;
}

function stringClaim(payload: JWTPayload, name: string): string | null {
  const value = payload[name];
  return typeof value === "string" && value.length > 0 ? value : null;
}

/** A role the token lists, and the organisations that granted it (Zitadel: `{ role: { orgId: domain } }`). */
export interface IgnoredGrant {
  role: string;
  grantedBy: string[];
}

/**
 * Zitadel's claims: org id in resourceowner, project roles as `{ role: { orgId: domain } }`. A role counts only
 * when the organisation entitled to grant it did: tenant roles by the caller's own organisation (a role granted
 * under organisation B says nothing about the caller's standing in A), `platform:admin` by the platform's own
 * organisation (a customer organisation granting it to itself grants nothing).
 */
export function identityFromClaims(payload: JWTPayload, platformOrgId: string | null): { identity: VerifiedIdentity; ignoredGrants: IgnoredGrant[] } {
  const orgId = stringClaim(payload, ZITADEL_ORG_CLAIM);
  const rolesClaim = payload[ZITADEL_ROLES_CLAIM];
  const grants = rolesClaim && typeof rolesClaim === "object" && !Array.isArray(rolesClaim) ? Object.entries(rolesClaim as Record<string, unknown>) : [];
  const roles: Role[] = [];
  const ignoredGrants: IgnoredGrant[] = [];
  for (const [role, grantors] of grants) {
    const grantedBy = grantors && typeof grantors === "object" && !Array.isArray(grantors) ? Object.keys(grantors) : [];
    if (!(ALL_ROLES as readonly string[]).includes(role)) continue;
    const entitledGrantor = role === Role.PLATFORM_ADMIN ? platformOrgId : orgId;
    if (entitledGrantor !== null && grantedBy.includes(entitledGrantor)) roles.push(role as Role);
    else ignoredGrants.push({ role, grantedBy });
  }
  return {
    identity: {
      userId: payload.sub!,
      email: stringClaim(payload, "email"),
      name: stringClaim(payload, "name") ?? stringClaim(payload, "preferred_username"),
      orgId,
      orgName: stringClaim(payload, ZITADEL_ORG_NAME_CLAIM),
      roles,
      expiresAt: new Date(payload.exp! * 1000),
    },
    ignoredGrants,
  };
}
