import type { z } from "zod";
import { createLogger } from "../logging/logger.js";
import { launchSubgraph, type SubgraphDefinition, type SubgraphSettingsOf } from "./subgraph-runtime.js";
import { onShutdown } from "./shutdown.js";

/** A subgraph process, from settings its main.ts has parsed: runtime → server, and a clean stop on signals. */
export async function runSubgraph<Shape extends z.ZodRawShape>(definition: SubgraphDefinition<Shape>, settings: SubgraphSettingsOf<Shape>): Promise<void> {
  const log = createLogger(`subgraph-${definition.name}`, settings.LOG_LEVEL);
  try {
    const launched = await launchSubgraph(definition, settings, { log });
    onShutdown(log, () => launched.stop());
  } catch (error) {
    log.fatal({ err: error }, `subgraph ${definition.name} could not start: ${(error as Error).message}`);
    process.exit(1);
  }
}
