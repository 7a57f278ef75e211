export { buildDashboard, dashboardBuildIsCurrent, dashboardViteConfig, ensureDashboardBuilt, DASHBOARD_DIST, DASHBOARD_ROOT, DASHBOARD_WEB } from "./dashboard-build.js";
export { startDashboardServer, type DashboardRuntimeConfig, type DashboardServer, type DashboardServerOptions } from "./dashboard-server.js";
