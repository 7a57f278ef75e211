import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Each owner's PostgreSQL schema; the kernel's is `platform`. */
const OWNERS = { tenant: "tenant", billing: "billing", identity: "identity", simulation: "simulation", stack: "stack" } as const;
type Owner = keyof typeof OWNERS;
const SUBGRAPHS = [...Object.keys(OWNERS), "stackkit"];

/** What an owner publishes for others: these names may be read across the boundary, nothing else. */
const PUBLISHED = {
  modules: ["@kombify/subgraph-tenant/tenant-directory", "@kombify/subgraph-tenant/tenant-access", "@kombify/subgraph-simulation/simulation-directory"],
  relations: ["tenant.tenant_directory", "billing.effective_plan", "simulation.simulation_directory", "simulation.node_directory"],
  /** The kernel's: what every owner's first migration adopts its tables from the shared era with. */
  kernel: ["platform.adopt_shared_table", "platform.adopt_shared_type"],
};

function filesUnder(dir: string, extensions = [".ts", ".sql"]): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(dir, entry);
    if (entry === "node_modules") return [];
    if (statSync(path).isDirectory()) return filesUnder(path, extensions);
    return extensions.some((extension) => entry.endsWith(extension)) ? [path] : [];
  });
}

/** Schema-qualified names in SQL (migrations, sql`` templates): `schema.name`, quoted or not. */
function qualifiedNames(text: string): string[] {
  const names = new Set<string>();
  const schemas = [...Object.values(OWNERS), "platform", "public"].join("|");
  for (const match of text.matchAll(new RegExp(`(?<![\\w.$])"?(${schemas})"?\\."?([a-z_][a-z0-9_]*)"?(?=[\\s(;,)]|$)`, "g"))) names.add(`${match[1]}.${match[2]}`);
  return [...names];
}

/** Package specifiers imported or re-exported. */
function imports(text: string): string[] {
  return [...text.matchAll(/(?:from|import)\s*\(?\s*["']([^"']+)["']/g)].map((match) => match[1]!);
}

/**
 * Names and imports in `files` that cross a boundary: qualified names `allowed` refuses, imports `allowedImport`
 * refuses, relative imports that leave `home`, and drizzle schemas other than the allowed ones.
 */
function violations(files: string[], home: string, allowed: (name: string, file: string) => boolean, allowedImport: (specifier: string) => boolean): string[] {
  return files.flatMap((file) => {
    const text = readFileSync(file, "utf8");
    const where = relative(ROOT, file);
    // TypeScript property access (`stack.id`, `tenant.slug`) looks like SQL: only SQL files and sql`` templates are read for names.
    const sqlText = file.endsWith(".sql")
      ? text
      : [
          ...[...text.matchAll(/sql(?:<[^>]*>)?`([^`]*)`/g)].map((match) => match[1]),
          ...[...text.matchAll(/(?:sql\.raw|\.unsafe)\(\s*(?:"([^"]*)"|'([^']*)'|`([^`]*)`)/g)].map((match) => match[1] ?? match[2] ?? match[3]),
        ].join("\n");
    return [
      ...qualifiedNames(sqlText).filter((name) => !allowed(name, file)).map((name) => `${where}: ${name}`),
      ...imports(text)
        .filter((specifier) => (specifier.startsWith(".") ? !join(dirname(file), specifier).startsWith(`${home}/`) : !allowedImport(specifier)))
        .map((specifier) => `${where}: imports ${specifier}`),
      ...[...text.matchAll(/pgSchema\(\s*["'](\w+)["']/g)].map((match) => match[1]!).filter((schema) => !allowed(`${schema}.*`, file)).map((schema) => `${where}: pgSchema("${schema}")`),
    ];
  });
}

const subgraphImport = (self: string | null) => (specifier: string) =>
  !specifier.startsWith("@kombify/subgraph-") || (self !== null && specifier.startsWith(`@kombify/subgraph-${self}`)) || PUBLISHED.modules.includes(specifier);

describe("data ownership, checked in the source", () => {
  for (const owner of Object.keys(OWNERS) as Owner[]) {
    it(`the ${owner} subgraph names only its own schema's tables and what others publish`, () => {
      const home = join(ROOT, "subgraphs", owner);
      const files = filesUnder(join(home, "src"));
      expect(files.length).toBeGreaterThan(0);
      const found = violations(
        files,
        home,
        (name, file) =>
          name.startsWith(`${OWNERS[owner]}.`) ||
          PUBLISHED.relations.includes(name) ||
          (PUBLISHED.kernel.includes(name) && file.includes(`${join("src", "db", "migrations")}`)),
        subgraphImport(owner),
      );
      expect(found).toEqual([]);
    });
  }

  it("the kernel and the stackkit subgraph (which has no tables) name no subgraph's tables", () => {
    const kernel = join(ROOT, "service-core");
    const stackkit = join(ROOT, "subgraphs", "stackkit");
    const found = [
      ...violations(filesUnder(join(kernel, "src")), kernel, (name, file) => name.startsWith("platform.") || (name.startsWith("public.") && file.includes("migrations")), subgraphImport(null)),
      ...violations(filesUnder(join(stackkit, "src")), stackkit, (name) => PUBLISHED.relations.includes(name), subgraphImport("stackkit")),
    ];
    expect(found).toEqual([]);
  });

  it("the gateway reads only the tenant directory", () => {
    const files = filesUnder(join(ROOT, "gateway", "src"));
    const gateway = join(ROOT, "gateway");
    const found = violations(files, gateway, (name) => name === "tenant.tenant_directory", (specifier) => !specifier.startsWith("@kombify/subgraph-") || specifier === "@kombify/subgraph-tenant/tenant-directory");
    expect(found).toEqual([]);
    // And it defines no tables of its own to read through.
    expect(files.filter((file) => /pgTable|pgSchema|pgView/.test(readFileSync(file, "utf8"))).map((file) => relative(ROOT, file))).toEqual([]);
  });

  it("catches a subgraph reading another's tables (the check itself works)", () => {
    const sample = "select * from billing.billing_subscriptions join tenant.tenants on true";
    const probe = join(ROOT, ".tmp", "ownership-probe.ts");
    mkdirSync(dirname(probe), { recursive: true });
    writeFileSync(probe, 'const a = sql<number>`select 1 from billing.billing_subscriptions`;\nconst b = sql.raw("select 1 from tenant.tenants");\n');
    expect(violations([probe], ROOT, (name) => name.startsWith("stack."), () => true).sort()).toEqual([".tmp/ownership-probe.ts: billing.billing_subscriptions", ".tmp/ownership-probe.ts: tenant.tenants"]);
    expect(qualifiedNames(sample).sort()).toEqual(["billing.billing_subscriptions", "tenant.tenants"]);
    expect(qualifiedNames('CREATE TABLE "stack"."job_queue" (').sort()).toEqual(["stack.job_queue"]);
    expect(subgraphImport("stack")("@kombify/subgraph-simulation")).toBe(false);
    expect(subgraphImport("stack")("@kombify/subgraph-simulation/simulation-directory")).toBe(true);
    const home = join(ROOT, "subgraphs", "stack");
    expect(violations([join(home, "src", "stack-subgraph.ts")], join(ROOT, "subgraphs", "tenant"), () => true, () => true).length).toBeGreaterThan(0);
  });

  it("knows every subgraph folder", () => {
    expect(readdirSync(join(ROOT, "subgraphs")).sort()).toEqual([...SUBGRAPHS].sort());
  });
});
