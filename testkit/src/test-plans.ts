import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { PlanTier } from "@kombify/service-core/auth";
import { uniqueSuffix } from "./test-tenants.js";

const PLANS = fileURLToPath(new URL("../../config/plans.json", import.meta.url));

/** config/plans.json with other requests per minute, written into `dir`: small budgets keep the tests fast. */
export function plansFileWith(dir: string, requestsPerMinute: Partial<Record<PlanTier, number>>): string {
  const catalog = JSON.parse(readFileSync(PLANS, "utf8")) as { plans: { tier: PlanTier; limits: { requestsPerMinute: number } }[] };
  for (const plan of catalog.plans) plan.limits.requestsPerMinute = requestsPerMinute[plan.tier] ?? plan.limits.requestsPerMinute;
  const file = join(dir, `plans-${uniqueSuffix()}.json`);
  writeFileSync(file, JSON.stringify(catalog));
  return file;
}
