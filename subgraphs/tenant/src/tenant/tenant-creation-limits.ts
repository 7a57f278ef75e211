import { and, count, eq, gte, lt, min, sql } from "drizzle-orm";
import { AppError, ErrorCode } from "@kombify/service-core/errors";
import type { Db } from "@kombify/service-core/database";
import { tenantCreationAdmissions } from "../db/schema.js";

export interface TenantCreationLimitSettings {
  /** New tenants admitted per client address within the window. */
  perAddress: number;
  /** New tenants admitted overall within the window. */
  overall: number;
  windowSeconds: number;
}

/**
 * Rate limits on creating tenants, per client address (as the gateway signed it) and overall, counted in
 * PostgreSQL: every replica of the tenant subgraph admits against the same rows, and nothing else has to be
 * up for the limit to hold (Redis at the gateway is optional and counts per replica while it is down). Admissions
 * are serialised by an advisory lock, so concurrent requests cannot all see the last free slot. A refusal is
 * RATE_LIMITED with `retryAfter`, the seconds until the oldest admission counted against it leaves the window.
 */
export class TenantCreationLimits {
  constructor(
    private readonly db: Db,
    private readonly settings: TenantCreationLimitSettings,
  ) {}

  /** Counts one tenant creation from `clientAddress` (null: unknown, counted overall only), or refuses it. */
  async admit(clientAddress: string | null): Promise<void> {
    const { perAddress, overall, windowSeconds } = this.settings;
    const windowStart = sql`now() - make_interval(secs => ${windowSeconds})`;
    await this.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext('tenant-creation-admissions'))`);
      await tx.delete(tenantCreationAdmissions).where(lt(tenantCreationAdmissions.admittedAt, windowStart));
      const within = gte(tenantCreationAdmissions.admittedAt, windowStart);
      const [all] = await tx.select({ n: count(), oldest: min(tenantCreationAdmissions.admittedAt) }).from(tenantCreationAdmissions).where(within);
      if ((all?.n ?? 0) >= overall) throw refusal(`${overall} new tenants`, all!.oldest, windowSeconds);
      if (clientAddress) {
        const [mine] = await tx
          .select({ n: count(), oldest: min(tenantCreationAdmissions.admittedAt) })
          .from(tenantCreationAdmissions)
          .where(and(within, eq(tenantCreationAdmissions.clientAddress, clientAddress)));
        if ((mine?.n ?? 0) >= perAddress) throw refusal(`${perAddress} new tenants from one address`, mine!.oldest, windowSeconds);
      }
      await tx.insert(tenantCreationAdmissions).values({ clientAddress });
    });
  }
}

function refusal(what: string, oldest: Date | null, windowSeconds: number): AppError {
  const leavesAt = (oldest ? new Date(oldest).getTime() : Date.now()) + windowSeconds * 1000;
  const retryAfter = Math.max(Math.ceil((leavesAt - Date.now()) / 1000), 1);
  return new AppError(ErrorCode.RATE_LIMITED, `Too many new tenants: at most ${what} every ${windowSeconds} s. Retry in ${retryAfter} s.`, { retryAfter });
}
