import { desc, eq } from "drizzle-orm";
import { Arg, Authorized, Ctx, Int, Query, Resolver } from "type-graphql";
import { errors, requireTenant, Role, tables, type Db, type RequestContext } from "@kombify/service-core";
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
    const rows = await this.db
      .select()
      .from(tables.auditLog)
      .where(eq(tables.auditLog.tenantId, tenant.id))
      .orderBy(desc(tables.auditLog.at), desc(tables.auditLog.id))
      .limit(first);
    return rows.map((row) => ({ ...row, id: String(row.id) }));
  }
}
