import { desc, eq } from "drizzle-orm";
import type { RequestContext } from "../auth/caller.js";
import type { Db } from "../database/database.js";
import { auditLog, type AuditLogRow } from "../database/platform/schema.js";

export type { AuditLogRow };

export interface AuditEntry {
  action: string;
  target?: string;
  tenantId?: string | null;
  details?: Record<string, unknown>;
}

/** Writes who did what to which target, with the request id, to the platform's audit log. */
export async function recordAudit(db: Db, context: RequestContext, entry: AuditEntry): Promise<void> {
  const caller = context.caller;
  await db.insert(auditLog).values({
    action: entry.action,
    target: entry.target ?? null,
    tenantId: entry.tenantId ?? (caller.kind === "user" ? (caller.tenant?.id ?? null) : null),
    actorUserId: caller.kind === "user" ? caller.userId : null,
    requestId: context.requestId,
    details: entry.details ?? null,
  });
}

/** A tenant's audit trail, newest first: the one way a service reads the kernel's audit table. */
export function readAuditLog(db: Db, tenantId: string, limit: number): Promise<AuditLogRow[]> {
  return db.select().from(auditLog).where(eq(auditLog.tenantId, tenantId)).orderBy(desc(auditLog.at), desc(auditLog.id)).limit(limit);
}
