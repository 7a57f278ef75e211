import type { Readable } from "node:stream";
import { installationLabels, labelFilters, SIMULATION_LABELS, type DockerEngine } from "@kombify/simulation-containers";
import type { Logger } from "@kombify/service-core/logging";

export interface ContainerEvent {
  action: "start" | "die" | "destroy";
  containerId: string;
  simulationId: string;
  nodeName: string;
  exitCode: number | null;
}

const WATCHED_ACTIONS = ["start", "die", "destroy"] as const;

/**
 * Follows the engine's event stream for KombiSim's containers, so a container started, killed or removed
 * outside the API is seen at once. After the stream breaks (engine restart), it reconnects with backoff and
 * calls `onResync` first, because events were missed in between.
 */
export class ContainerEvents {
  private stream: Readable | undefined;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private inOutage = false;

  constructor(
    private readonly engine: DockerEngine,
    private readonly installation: string,
    private readonly log: Logger,
    private readonly onEvent: (event: ContainerEvent) => Promise<void>,
    private readonly onResync: () => Promise<void>,
  ) {}

  /**
   * Connects and reconciles (after the stream is open, so nothing happens unseen in between); resolves then, or
   * once the first attempt failed and retries are scheduled.
   */
  async start(): Promise<void> {
    await this.connect(0, true);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.stream?.destroy();
  }

  private async connect(attempt: number, resync: boolean): Promise<void> {
    if (this.stopped) return;
    try {
      const stream = (await this.engine.docker.getEvents({
        filters: {
          type: ["container"],
          event: [...WATCHED_ACTIONS],
          label: labelFilters(installationLabels(this.installation)),
        },
      })) as unknown as Readable;
      this.stream = stream;
      if (resync) await this.onResync().catch((error) => this.log.error({ err: error }, "resync after the engine's event stream broke failed"));
      this.consume(stream);
      if (this.inOutage) this.log.info({ engine: this.engine.address }, "docker event stream connected");
      this.inOutage = false;
    } catch (error) {
      // Said once per outage: an engine-less development machine should not fill the log.
      if (!this.inOutage) this.log.warn({ err: error, engine: this.engine.address }, "docker engine unreachable; simulations answer UNAVAILABLE until it is back");
      this.inOutage = true;
      this.scheduleReconnect(attempt + 1);
    }
  }

  private scheduleReconnect(attempt: number): void {
    if (this.stopped) return;
    const delay = Math.min(10_000, 250 * 2 ** Math.min(attempt, 6));
    this.retryTimer = setTimeout(() => void this.connect(attempt, true), delay);
  }

  private consume(stream: Readable): void {
    let pending = "";
    let chain = Promise.resolve();
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      pending += chunk;
      let newline: number;
      while ((newline = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        const event = line ? parseEvent(line) : null;
        // Events of one stream are applied one at a time, in the engine's order.
        if (event) chain = chain.then(() => this.onEvent(event)).catch((error) => this.log.error({ err: error, event }, "could not apply a docker event"));
      }
    });
    const broken = () => {
      if (this.stream !== stream) return;
      this.stream = undefined;
      if (!this.stopped) {
        this.log.warn({ engine: this.engine.address }, "docker event stream ended; reconnecting");
        this.scheduleReconnect(1);
      }
    };
    stream.on("end", broken);
    stream.on("error", broken);
    stream.on("close", broken);
  }
}

function parseEvent(line: string): ContainerEvent | null {
  try {
    const raw = JSON.parse(line) as { Action?: string; Actor?: { ID?: string; Attributes?: Record<string, string> } };
    const action = raw.Action as ContainerEvent["action"];
    if (!WATCHED_ACTIONS.includes(action)) return null;
    const attributes = raw.Actor?.Attributes ?? {};
    const simulationId = attributes[SIMULATION_LABELS.simulation];
    const nodeName = attributes[SIMULATION_LABELS.node];
    if (!raw.Actor?.ID || !simulationId || !nodeName) return null;
    const exitCode = attributes.exitCode !== undefined ? Number(attributes.exitCode) : null;
    return { action, containerId: raw.Actor.ID, simulationId, nodeName, exitCode };
  } catch {
    return null;
  }
}
