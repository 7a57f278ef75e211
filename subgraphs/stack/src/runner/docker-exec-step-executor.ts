import { callEngine, execInContainer, installationLabels, labelFilters, SIMULATION_LABELS, type DockerEngine } from "@kombify/simulation-containers";
import type { KitStep, StepExecutor, StepTarget } from "./step-executor.js";

/**
 * Runs a step inside a simulated node's container with `docker exec` (`sh -c <step>`), streaming stdout and
 * stderr line by line into the job's log. The container is found by the labels KombiSim wrote (installation,
 * tenant, simulation, node), so a job can only ever reach its own tenant's containers.
 */
export class DockerExecStepExecutor implements StepExecutor {
  constructor(
    private readonly engine: DockerEngine,
    private readonly installation: string,
  ) {}

  async run({ tenantId, node, simulationId }: StepTarget, step: KitStep, output: (line: string) => void, signal: AbortSignal): Promise<void> {
    const prefix = `[${node.hostname}]`;
    const containerId = await this.containerOf(tenantId, simulationId!, node.hostname);
    output(`${prefix} $ ${step.run}`);
    const lines = new LineSplitter((line) => output(`${prefix} ${line}`));
    const exitCode = await execInContainer(this.engine, containerId, ["sh", "-c", step.run], { onOutput: (chunk) => lines.write(chunk), signal });
    lines.flush();
    if (exitCode !== 0) throw new Error(`${step.name} failed on ${node.hostname} (exit code ${exitCode}).`);
  }

  private async containerOf(tenantId: string, simulationId: string, nodeName: string): Promise<string> {
    const [container] = await callEngine(this.engine, () =>
      this.engine.docker.listContainers({
        all: true,
        filters: {
          label: labelFilters({
            ...installationLabels(this.installation),
            [SIMULATION_LABELS.tenant]: tenantId,
            [SIMULATION_LABELS.simulation]: simulationId,
            [SIMULATION_LABELS.node]: nodeName,
          }),
        },
      }),
    );
    if (!container) throw new Error(`${nodeName} has no container in its simulation; start the simulation again.`);
    if (container.State !== "running") throw new Error(`${nodeName}'s container is ${container.State}; start the simulation first.`);
    return container.Id;
  }
}

/** Cuts a byte stream into lines (the last partial line is kept until more arrives or `flush`). */
class LineSplitter {
  private pending = "";

  constructor(private readonly emit: (line: string) => void) {}

  write(chunk: Buffer): void {
    const lines = (this.pending + chunk.toString("utf8")).split(/\r?\n/);
    this.pending = lines.pop() ?? "";
    for (const line of lines) this.emit(line);
  }

  flush(): void {
    if (this.pending) this.emit(this.pending);
    this.pending = "";
  }
}
