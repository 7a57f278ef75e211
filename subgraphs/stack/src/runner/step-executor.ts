import { setTimeout } from "node:timers/promises";
import type { StackKitDefinition } from "@kombify/stackkit-catalog";
import type { Node } from "../node/node.type.js";

export type KitStep = StackKitDefinition["steps"][number];

/** Where a step runs: a node of a tenant's stack, and the simulation standing in for it, if any. */
export interface StepTarget {
  tenantId: string;
  node: Node;
  simulationId: string | null;
}

/**
 * Runs one step of a kit on one node, streaming its output line by line; throws when the step fails.
 * The runner knows only this interface: simulated nodes (KombiSim) plug in `docker exec`, real ones an agent.
 */
export interface StepExecutor {
  run(target: StepTarget, step: KitStep, output: (line: string) => void, signal: AbortSignal): Promise<void>;
}

/**
 * For nodes no agent is connected to yet: records what would run, after a delay, without executing it.
 * Until a real channel exists this keeps the job lifecycle honest and observable.
 */
export class DryRunStepExecutor implements StepExecutor {
  constructor(private readonly stepDelayMs: number) {}

  async run({ node }: StepTarget, step: KitStep, output: (line: string) => void, signal: AbortSignal): Promise<void> {
    output(`[${node.hostname}] $ ${step.run}`);
    await setTimeout(this.stepDelayMs, undefined, { signal }).catch((error) => {
      throw signal.aborted ? signal.reason : error;
    });
    output(`[${node.hostname}] ${step.name}: recorded (no agent connected to ${node.address}; dry run)`);
  }
}

/** Simulated nodes run their steps in their containers; every other node goes to `otherwise`. */
export class RoutingStepExecutor implements StepExecutor {
  constructor(
    private readonly simulated: StepExecutor,
    private readonly otherwise: StepExecutor,
  ) {}

  run(target: StepTarget, step: KitStep, output: (line: string) => void, signal: AbortSignal): Promise<void> {
    return (target.simulationId ? this.simulated : this.otherwise).run(target, step, output, signal);
  }
}
