import { configOrExit, loadDotEnv } from "../config/env.js";
import { createLogger } from "../logging/logger.js";
import { SUBGRAPHS, type SubgraphName } from "../federation/subgraph-registry.js";
import { parseSubgraphSettings, launchSubgraph, type SubgraphFactory } from "./subgraph-runtime.js";
import { onShutdown } from "./shutdown.js";

/** The entry point of a subgraph process: env → runtime → server, and a clean stop on signals. */
export async function runSubgraphMain(name: SubgraphName, factory: SubgraphFactory): Promise<void> {
  loadDotEnv();
  const defaultPort = SUBGRAPHS.find((subgraph) => subgraph.name === name)!.defaultPort;
  const settings = configOrExit(() => parseSubgraphSettings(defaultPort));
  const log = createLogger(`subgraph-${name}`, settings.LOG_LEVEL);
  try {
    const launched = await launchSubgraph(name, factory, settings, { log });
    onShutdown(log, () => launched.stop());
  } catch (error) {
    log.fatal({ err: error }, `subgraph ${name} could not start: ${(error as Error).message}`);
    process.exit(1);
  }
}
