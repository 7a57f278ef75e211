import { Arg, Authorized, Ctx, Int, Query, Resolver } from "type-graphql";
import { errors } from "@kombify/service-core/errors";
import { readAuditLog } from "@kombify/service-core/audit";
import { requireTenant, Role, type RequestContext } from "@kombify/service-core/auth";
import type { Db } from "@kombify/service-core/database";
import { AuditLogEntry } from "./audit-log-entry.type.js";

const MAX_ENTRIES = 500;

@Resolver(() => AuditLogEntry)
export class AuditLogResolver {
  constructor(private readonly db: Db) {}

  @Authorized(Role.TENANT_OWNER, Role.TENANT_ADMIN)
  @Query(() => [AuditLogEntry], { description: "The caller's tenant's audit log, newest first. Owners and admins only." })
  async auditLog(
    @Ctx() context: RequestContext,
    @Arg("first", () => Int, { defaultValue: 50 }) first: number,
  ): Promise<AuditLogEntry[]> {
    if (first < 1 || first > MAX_ENTRIES) throw errors.badInput("first", `must be between 1 and ${MAX_ENTRIES}.`);
    const tenant = requireTenant(context);
    const rows = await readAuditLog(this.db, tenant.id, first);
    return rows.map((row) => ({ ...row, id: String(row.id) }));
  }
}
