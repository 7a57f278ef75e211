import { errors } from "@kombify/service-core/errors";
import { SIMULATION_NAME_PATTERN } from "@kombify/simulation-containers";
import type { StackKitCatalog, StackKitDefinition } from "@kombify/stackkit-catalog";

/** No plan allows more nodes than this; beyond it the input is wrong, not the plan too small. */
export const MAX_NODES_PER_SIMULATION = 50;

export interface NewSimulationInput {
  name: string;
  nodeCount: number;
  image: string;
  stackKit: StackKitDefinition | null;
}

/**
 * Validates createSimulation's arguments; every problem is BAD_USER_INPUT naming the argument. The name ends
 * up in Docker container names (`<tenant>_<simulation>_<node>`), so only lower-case letters, digits and '-'.
 */
export function validateNewSimulation(
  raw: { name: string; nodeCount: number; image?: string | null; stackKitId?: string | null },
  allowedImages: readonly string[],
  stackkits: StackKitCatalog,
): NewSimulationInput {
  const name = raw.name.trim();
  if (!SIMULATION_NAME_PATTERN.test(name)) {
    throw errors.badInput("name", "must be 1 to 32 characters of lower-case letters, digits and '-', starting and ending with a letter or digit.");
  }
  if (!Number.isInteger(raw.nodeCount) || raw.nodeCount < 1 || raw.nodeCount > MAX_NODES_PER_SIMULATION) {
    throw errors.badInput("nodeCount", `must be between 1 and ${MAX_NODES_PER_SIMULATION}.`);
  }
  const image = raw.image == null ? allowedImages[0]! : raw.image.trim();
  if (!allowedImages.includes(image)) {
    throw errors.badInput("image", `must be one of the node images this deployment offers: ${allowedImages.join(", ")}.`);
  }
  let stackKit: StackKitDefinition | null = null;
  if (raw.stackKitId != null) {
    stackKit = stackkits.find(raw.stackKitId) ?? null;
    if (!stackKit) throw errors.badInput("stackKitId", `no StackKit "${raw.stackKitId}" exists.`);
  }
  return { name, nodeCount: raw.nodeCount, image, stackKit };
}

/** Node names inside a simulation: node-1 … node-N. */
export function nodeNames(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `node-${index + 1}`);
}
