const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `value` can be a PostgreSQL uuid; ids that cannot are simply not found, not database errors. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
