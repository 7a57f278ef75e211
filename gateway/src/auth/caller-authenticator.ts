import type { IncomingMessage } from "node:http";
import { ANONYMOUS, type Caller } from "@kombify/service-core/auth";
import type { TenantResolver } from "../tenancy/tenant-resolver.js";
import { InvalidClaimError, InvalidTokenError, JwksUnavailableError, type AccessTokenVerifier } from "./access-token-verifier.js";

export type Authentication =
  | { ok: true; caller: Caller; expiresAt: Date | null }
  | { ok: false; code: "UNAUTHENTICATED" | "UNAVAILABLE" | "BAD_USER_INPUT"; message: string };

/**
 * From an `Authorization: Bearer` header (or a graphql-ws connection_init payload) to a caller with its
 * tenant. No credentials means anonymous; bad credentials are an error, never silently anonymous.
 */
export class CallerAuthenticator {
  constructor(
    private readonly verifier: AccessTokenVerifier | null,
    private readonly tenants: TenantResolver,
  ) {}

  fromRequest(req: IncomingMessage): Promise<Authentication> {
    return this.fromAuthorization(req.headers.authorization);
  }

  async fromAuthorization(header: string | undefined): Promise<Authentication> {
    if (!header) return { ok: true, caller: ANONYMOUS, expiresAt: null };
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) return { ok: false, code: "UNAUTHENTICATED", message: "The Authorization header must be 'Bearer <access token>'." };
    if (!this.verifier) return { ok: false, code: "UNAUTHENTICATED", message: "This gateway has no token issuer configured (OIDC_ISSUER)." };
    try {
      const { expiresAt, ...identity } = await this.verifier.verify(match[1]!);
      const tenant = identity.orgId ? await this.tenants.byOrganisation(identity.orgId) : null;
      return { ok: true, caller: { kind: "user", ...identity, tenant }, expiresAt };
    } catch (error) {
      if (error instanceof InvalidTokenError) return { ok: false, code: "UNAUTHENTICATED", message: error.message };
      if (error instanceof InvalidClaimError) return { ok: false, code: "BAD_USER_INPUT", message: error.message };
      if (error instanceof JwksUnavailableError) return { ok: false, code: "UNAVAILABLE", message: error.message };
      throw error;
    }
  }
}
