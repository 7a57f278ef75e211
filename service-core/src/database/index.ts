export { connectDatabase, databaseAnswers, readInstallationId, serializedBy, type Database, type Db, type Transaction } from "./database.js";
export { isUniqueViolation, postgresCodeOf } from "./postgres-errors.js";
