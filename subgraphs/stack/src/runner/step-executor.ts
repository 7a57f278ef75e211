import type { StackKitDefinition } from "@kombify/service-core";
import type { Node } from "../node/node.type.js";

export type KitStep = StackKitDefinition["steps"][number];

/**
 * Runs one step of a kit on one node, streaming its output line by line; throws when the step fails.
 * The runner knows only this interface: simulated nodes (KombiSim) plug in `docker exec`, real ones an agent.
 */
export interface StepExecutor {
  run(node: Node, step: KitStep, output: (line: string) => void, signal: AbortSignal): Promise<void>;
}

/**
 * For nodes no agent is connected to yet: records what would run, after a delay, without executing it.
 * Until a real channel exists this keeps the job lifecycle honest and observable.
 */
export class DryRunStepExecutor implements StepExecutor {
  constructor(private readonly stepDelayMs: number) {}

  async run(node: Node, step: KitStep, output: (line: string) => void, signal: AbortSignal): Promise<void> {
    output(`[${node.hostname}] $ ${step.run}`);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, this.stepDelayMs);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(signal.reason);
      }, { once: true });
    });
    output(`[${node.hostname}] ${step.name}: recorded (no agent connected to ${node.address}; dry run)`);
  }
}
