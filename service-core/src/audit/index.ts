export { readAuditLog, recordAudit, type AuditEntry, type AuditLogRow } from "./audit-log.js";
