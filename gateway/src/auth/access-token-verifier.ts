import { errors as joseErrors, jwtVerify, type JWTPayload } from "jose";
import { ALL_ROLES, type Logger, type Role, type SignedInCaller } from "@kombify/service-core";
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
  jwks?: JwksCacheOptions;
}

export class InvalidTokenError extends Error {}
export { JwksUnavailableError };

/** Verifies Zitadel access tokens against the issuer's JWKS, with issuer, audience and algorithms pinned. */
export class AccessTokenVerifier {
  private readonly jwks: JwksCache;

  constructor(
    private readonly options: AccessTokenVerifierOptions,
    log: Logger,
  ) {
    this.jwks = new JwksCache(options.jwksUrl, log, options.jwks);
  }

  async verify(token: string): Promise<VerifiedIdentity> {
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
    return identityFromClaims(payload);
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

function stringClaim(payload: JWTPayload, name: string): string | null {
  const value = payload[name];
  return typeof value === "string" && value.length > 0 ? value : null;
}

/** Zitadel's claims: org id in resourceowner, project roles as `{ role: { orgId: domain } }`. */
export function identityFromClaims(payload: JWTPayload): VerifiedIdentity {
  const rolesClaim = payload[ZITADEL_ROLES_CLAIM];
  const granted = rolesClaim && typeof rolesClaim === "object" ? Object.keys(rolesClaim) : [];
  return {
    userId: payload.sub!,
    email: stringClaim(payload, "email"),
    name: stringClaim(payload, "name") ?? stringClaim(payload, "preferred_username"),
    orgId: stringClaim(payload, ZITADEL_ORG_CLAIM),
    orgName: stringClaim(payload, ZITADEL_ORG_NAME_CLAIM),
    roles: granted.filter((role): role is Role => (ALL_ROLES as readonly string[]).includes(role)),
    expiresAt: new Date(payload.exp! * 1000),
  };
}
