import type { Sql } from "postgres";
import { errors } from "@kombify/service-core/errors";
import { PushQueue } from "@kombify/service-core/streams";
import { requireTenant, type RequestContext } from "@kombify/service-core/auth";
import type { Logger } from "@kombify/service-core/logging";
import { toSimulation, type SimulationStore } from "./simulation-store.js";
import { Simulation } from "./simulation.type.js";

/** The channel the simulations/simulation_nodes triggers notify (migration 0004). */
export const SIMULATION_CHANGED_CHANNEL = "kombify_simulation_changed";

interface Notification {
  tenantId: string;
  simulationId: string;
  deleted?: boolean;
  row?: { id: string; name: string; status: Simulation["status"]; statusMessage: string | null; stackKitId: string | null; createdAt: string };
}

interface Subscriber {
  tenantId: string;
  simulationId: string | null;
  queue: PushQueue<Simulation>;
}

/** Simulations whose last state is remembered, so a node change is reported with the simulation as last written. */
const REMEMBERED_SIMULATIONS = 10_000;

/**
 * simulationUpdated's source: PostgreSQL notifications from triggers on the simulation tables, so a change
 * written by any replica (or by the Docker event handler) reaches every subscriber. Notifications are handled
 * one at a time in commit order; a simulation row's new state travels in the notification itself, so quick
 * transitions (PROVISIONING → RUNNING) arrive as separate events.
 */
export class SimulationEvents {
  private readonly subscribers = new Set<Subscriber>();
  private readonly lastState = new Map<string, Simulation>();
  private listener: { unlisten(): Promise<void> } | undefined;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    /** The service's pool: postgres.js gives LISTEN a connection of its own. */
    private readonly sql: Sql,
    private readonly store: SimulationStore,
    private readonly log: Logger,
    /** Events held for a subscriber that is not reading before it is cut off. */
    private readonly bufferPerSubscriber = 1000,
  ) {}

  async start(): Promise<void> {
    this.listener = await this.sql.listen(SIMULATION_CHANGED_CHANNEL, (payload: string) => {
      this.chain = this.chain.then(() => this.deliver(payload)).catch((error) => this.log.error({ err: error }, "could not deliver a simulation update"));
    });
  }

  async stop(): Promise<void> {
    for (const subscriber of this.subscribers) subscriber.queue.end();
    await this.listener?.unlisten().catch(() => {});
  }

  subscribe(context: RequestContext, simulationId: string | null): AsyncIterableIterator<Simulation> {
    const tenant = requireTenant(context);
    const subscriber: Subscriber = {
      tenantId: tenant.id,
      simulationId,
      queue: new PushQueue<Simulation>(
        () => this.subscribers.delete(subscriber),
        this.bufferPerSubscriber,
        () => errors.unavailable("This subscriber fell too far behind the simulation updates; subscribe again."),
      ),
    };
    this.subscribers.add(subscriber);
    return subscriber.queue;
  }

  private async deliver(payload: string): Promise<void> {
    const notification = JSON.parse(payload) as Notification;
    let simulation: Simulation | null | undefined;
    if (notification.row) {
      simulation = toSimulation({ ...notification.row, createdAt: new Date(notification.row.createdAt) });
      if (notification.deleted) this.lastState.delete(simulation.id);
      else this.remember(simulation);
    }
    const audience = [...this.subscribers].filter(
      (subscriber) => subscriber.tenantId === notification.tenantId && (!subscriber.simulationId || subscriber.simulationId === notification.simulationId),
    );
    if (audience.length === 0) return;
    simulation ??= this.lastState.get(notification.simulationId) ?? (await this.load(notification));
    if (!simulation) return;
    // The nodes are read once per change for every subscriber, not by each subscriber's `nodes` field.
    const loadedNodes = notification.deleted ? [] : await this.store.nodesOf(notification.tenantId, notification.simulationId);
    const event = Object.assign(new Simulation(), simulation, { loadedNodes });
    for (const subscriber of audience) {
      subscriber.queue.push(event);
      // A stream about this one simulation has nothing more to say once it is gone.
      if (notification.deleted && subscriber.simulationId) subscriber.queue.end();
    }
  }

  private async load(notification: Notification): Promise<Simulation | null> {
    const simulation = await this.store.get(notification.tenantId, notification.simulationId);
    if (simulation) this.remember(simulation);
    return simulation;
  }

  private remember(simulation: Simulation): void {
    this.lastState.delete(simulation.id);
    this.lastState.set(simulation.id, simulation);
    if (this.lastState.size > REMEMBERED_SIMULATIONS) this.lastState.delete(this.lastState.keys().next().value!);
  }
}
