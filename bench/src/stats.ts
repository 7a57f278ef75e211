/** The q-quantile (0..1) of `values` (sorted in place). */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  values.sort((a, b) => a - b);
  return values[Math.min(values.length - 1, Math.floor(q * values.length))]!;
}

export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
export const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

/** A plain-text table: one row per record, columns in the order of the first record's keys. */
export function table(rows: Record<string, string | number>[]): string {
  if (rows.length === 0) return "";
  const columns = Object.keys(rows[0]!);
  const width = (column: string) => Math.max(column.length, ...rows.map((row) => String(row[column]).length));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padStart(width(columns[i]!))).join("  ");
  return [line(columns), line(columns.map((c) => "-".repeat(width(c)))), ...rows.map((row) => line(columns.map((c) => String(row[c]))))].join("\n");
}
