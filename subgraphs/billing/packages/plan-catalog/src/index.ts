export { assertPlanCovers, Entitlements, planCovers, type Quota } from "./entitlements.js";
export { DEFAULT_PLANS_FILE, PlanCatalog, planCatalogSettingsShape, type Plan, type PlanLimits } from "./plan-catalog.js";
