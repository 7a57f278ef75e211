import type { IncomingMessage } from "node:http";
import { ANONYMOUS, type Caller, type TenantRef } from "@kombify/service-core/auth";
import type { Logger } from "@kombify/service-core/logging";
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
    private readonly log?: Logger,
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
      const tenant = identity.orgId ? await this.tenantOf(identity.orgId) : null;
      if (tenant === UNKNOWN) return { ok: false, code: "UNAVAILABLE", message: DIRECTORY_UNAVAILABLE };
      return { ok: true, caller: { kind: "user", ...identity, tenant }, expiresAt };
    } catch (error) {
      if (error instanceof InvalidTokenError) return { ok: false, code: "UNAUTHENTICATED", message: error.message };
      if (error instanceof InvalidClaimError) return { ok: false, code: "BAD_USER_INPUT", message: error.message };
      if (error instanceof JwksUnavailableError) return { ok: false, code: "UNAVAILABLE", message: error.message };
      throw error;
    }
  }

  /**
   * The caller with its tenant as the directory says now: a socket's operations each take this, so a plan or
   * tenant change reaches an open connection's next operation (the directory's cache is dropped on every change).
   * The tenant it had if the directory cannot answer.
   */
  async withCurrentTenant(caller: Caller): Promise<Caller> {
    if (caller.kind !== "user" || !caller.orgId) return caller;
    const tenant = await this.tenantOf(caller.orgId);
    return tenant === UNKNOWN ? caller : { ...caller, tenant };
  }

  private async tenantOf(orgId: string): Promise<TenantRef | null | typeof UNKNOWN> {
    try {
      return await this.tenants.byOrganisation(orgId);
    } catch (error) {
      // The directory is the tenant subgraph's (and its plan column billing's): unreachable, or not migrated yet.
      this.log?.warn({ err: error }, "the tenant directory did not answer");
      return UNKNOWN;
    }
  }
}

const UNKNOWN = Symbol("tenant unknown");
const DIRECTORY_UNAVAILABLE = "Your organisation's tenant cannot be looked up right now; retry in a moment.";
