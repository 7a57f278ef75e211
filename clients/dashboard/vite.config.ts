// `pnpm --filter @kombify/dashboard dev`: the app with hot reload, /graphql proxied to a running `pnpm start`
// (GATEWAY_URL to point elsewhere), and the demo token offered from .data/demo-token when there is one.
// `pnpm --filter @kombify/dashboard build` builds into dist/, as `pnpm start` does when dist is stale.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { defineConfig, type Plugin } from "vite";
import { dashboardViteConfig, DASHBOARD_ROOT } from "./src/dashboard-build.js";

const demoTokenFile = join(DASHBOARD_ROOT, "../../.data/demo-token");

const devConfig: Plugin = {
  name: "kombify-dev-config",
  configureServer(server) {
    server.middlewares.use("/config.json", (_request, response) => {
      const demoToken = existsSync(demoTokenFile) ? readFileSync(demoTokenFile, "utf8").trim() : undefined;
      response.setHeader("content-type", "application/json");
      response.end(JSON.stringify({ graphqlUrl: "/graphql", demoToken }));
    });
  },
};

export default defineConfig(async () => {
  const { configFile: _none, plugins = [], ...shared } = await dashboardViteConfig();
  return {
    ...shared,
    plugins: [...plugins, devConfig],
    server: { host: "127.0.0.1", proxy: { "/graphql": { target: process.env.GATEWAY_URL ?? "http://127.0.0.1:4000", ws: true } } },
  };
});
