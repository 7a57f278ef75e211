/** A PostgreSQL error's SQLSTATE, wherever drizzle wrapped it; undefined for anything else. */
export function postgresCodeOf(error: unknown): string | undefined {
  for (let current: unknown = error; current && typeof current === "object"; current = (current as { cause?: unknown }).cause) {
    const { code } = current as { code?: unknown };
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/**
 * Whether a PostgreSQL error is a unique-constraint violation (SQLSTATE 23505), wherever drizzle wrapped it;
 * of `constraint` (an index's name) when given, so another unique index's violation is not mistaken for it.
 */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  for (let current: unknown = error; current && typeof current === "object"; current = (current as { cause?: unknown }).cause) {
    const { code, constraint_name } = current as { code?: unknown; constraint_name?: unknown };
    if (code === "23505") return constraint === undefined || constraint_name === constraint;
  }
  return false;
}
