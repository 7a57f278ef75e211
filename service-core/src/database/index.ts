export { connectDatabase, databaseAnswers, readInstallationId, serializedBy, type Database, type Db, type Transaction } from "./database.js";
export { isUniqueViolation, postgresCodeOf } from "./postgres-errors.js";
export { applyMigrations, migrationSet, type MigrationSet } from "./migration-sets.js";
export { auditLog, installation, platformMigrations, type AuditLogRow } from "./platform/schema.js";
