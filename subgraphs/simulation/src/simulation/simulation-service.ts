import { assertEngineReachable, dockerStatus, imageExists } from "@kombify/simulation-containers";
import { errorMessage, errors } from "@kombify/service-core/errors";
import { recordAudit } from "@kombify/service-core/audit";
import { requireTenant, type RequestContext, type TenantRef } from "@kombify/service-core/auth";
import type { Db } from "@kombify/service-core/database";
import type { Logger } from "@kombify/service-core/logging";
import type { Entitlements } from "@kombify/plan-catalog";
import type { StackKitCatalog } from "@kombify/stackkit-catalog";
import type { SimulationNodeRow, SimulationRow } from "../db/schema.js";
import type { ContainerEvent } from "../engine/container-events.js";
import type { NodeContainers } from "../engine/node-containers.js";
import type { SshForwarder } from "../ssh/ssh-forwarder.js";
import type { PortRange } from "../ssh/ssh-port-pool.js";
import { nodeNames, validateNewSimulation } from "./simulation-input.js";
import { forEachLimited, SimulationOperations, waitAtMost } from "./simulation-operations.js";
import type { NodeStatus, SimulationStore } from "./simulation-store.js";
import type { Simulation } from "./simulation.type.js";

export interface SimulationServiceOptions {
  images: readonly string[];
  sshPorts: PortRange;
  /** How long a mutation waits for its containers before answering with the state so far. */
  mutationWaitMs: number;
  /** Containers created or stopped at once per simulation. */
  parallelism: number;
}

/**
 * KombiSim's lifecycle: PENDING → PROVISIONING → RUNNING; STOPPING → STOPPED; FAILED with a message on any
 * error. PostgreSQL holds the state (and tells subscribers through triggers); the engine's containers are
 * the truth it is reconciled with, at start-up and from Docker's event stream.
 */
export class SimulationService {
  private readonly operations = new SimulationOperations();

  constructor(
    private readonly db: Db,
    private readonly store: SimulationStore,
    private readonly containers: NodeContainers,
    private readonly forwarder: SshForwarder,
    private readonly entitlements: Entitlements,
    private readonly stackkits: StackKitCatalog,
    private readonly options: SimulationServiceOptions,
    private readonly log: Logger,
  ) {}

  async create(
    context: RequestContext,
    raw: { name: string; nodeCount: number; image?: string | null; stackKitId?: string | null },
  ): Promise<Simulation> {
    const tenant = requireTenant(context);
    const input = validateNewSimulation(raw, this.options.images, this.stackkits);
    if (input.stackKit) this.entitlements.assertCovers(tenant.plan, input.stackKit.tier, input.stackKit.name);
    this.entitlements.assertWithinQuota(tenant.plan, "nodesPerSimulation", 0, input.nodeCount);
    await assertEngineReachable(this.containers.engine);
    if (!(await imageExists(this.containers.engine, input.image))) {
      throw errors.unavailable(`The node image ${input.image} is not on the Docker engine at ${this.containers.engine.address}; build it with docker/sim-node/build.sh.`);
    }
    const row = await this.store.create({
      tenantId: tenant.id,
      name: input.name,
      image: input.image,
      stackKitId: input.stackKit?.id ?? null,
      nodeNames: nodeNames(input.nodeCount),
      assertRoom: (simulationsHeld) => this.entitlements.assertWithinQuota(tenant.plan, "simulations", simulationsHeld),
      sshPorts: this.options.sshPorts,
    });
    await recordAudit(this.db, context, { action: "simulation.create", target: `simulation:${row.id}`, details: { nodes: input.nodeCount, image: input.image } });
    const provisioning = this.operations.run(row.id, () => this.provision(tenant, row.id));
    await waitAtMost(provisioning, this.options.mutationWaitMs);
    return this.current(tenant, row.id);
  }

  start(context: RequestContext, id: string): Promise<Simulation> {
    return this.changeAndWait(context, id, "simulation.start", async (tenant) => {
      const row = await this.store.row(tenant.id, id);
      if (row && row.status !== "RUNNING") await this.provision(tenant, id);
    });
  }

  stop(context: RequestContext, id: string): Promise<Simulation> {
    return this.changeAndWait(context, id, "simulation.stop", (tenant) => this.stopContainers(tenant, id));
  }

  /** Queues `change` behind the simulation's other operations and answers with its state, waiting a while. */
  private async changeAndWait(context: RequestContext, id: string, action: string, change: (tenant: TenantRef) => Promise<void>): Promise<Simulation> {
    const tenant = requireTenant(context);
    await this.owned(tenant, id);
    await assertEngineReachable(this.containers.engine);
    const changing = this.operations.run(id, () => change(tenant));
    await recordAudit(this.db, context, { action, target: `simulation:${id}` });
    await waitAtMost(changing, this.options.mutationWaitMs);
    return this.current(tenant, id);
  }

  /** Removes the containers (those already gone are fine), then the rows, which releases the SSH ports. */
  async delete(context: RequestContext, id: string): Promise<boolean> {
    const tenant = requireTenant(context);
    await this.owned(tenant, id);
    await assertEngineReachable(this.containers.engine);
    await this.operations.run(id, async () => {
      // A delete queued behind another delete of the same simulation finds nothing left.
      if (!(await this.store.row(tenant.id, id))) throw errors.notFound("Simulation", id);
      // STOPPING first: the engine's die/destroy events for these containers are then ours, not failures.
      await this.store.setStatus(id, "STOPPING");
      const nodes = await this.store.nodeRows(tenant.id, id);
      await Promise.all(nodes.map((node) => (node.sshPort ? this.forwarder.close(node.sshPort) : undefined)));
      const containerIds = new Set([...nodes.flatMap((node) => (node.containerId ? [node.containerId] : [])), ...(await this.containers.list(id)).map((container) => container.id)]);
      const failures = await forEachLimited([...containerIds], this.options.parallelism, (containerId) => this.containers.remove(containerId));
      const failure = failures.find(Boolean);
      if (failure) throw failure;
      await this.store.delete(id);
      if ((await this.store.countOfTenant(tenant.id)) === 0) await this.containers.removeTenantNetworkIfUnused(tenant.slug);
    });
    await recordAudit(this.db, context, { action: "simulation.delete", target: `simulation:${id}` });
    return true;
  }

  /** Lets running operations finish (shutdown, tests). */
  idle(): Promise<void> {
    return this.operations.idle();
  }

  private async owned(tenant: TenantRef, id: string): Promise<SimulationRow> {
    const row = await this.store.row(tenant.id, id);
    if (!row) throw errors.notFound("Simulation", id);
    return row;
  }

  private async current(tenant: TenantRef, id: string): Promise<Simulation> {
    const simulation = await this.store.get(tenant.id, id);
    if (!simulation) throw errors.notFound("Simulation", id);
    return simulation;
  }

  /** Creates or starts every node's container; the simulation ends RUNNING, or FAILED naming what failed. */
  private async provision(tenant: TenantRef, id: string): Promise<void> {
    const row = await this.store.row(tenant.id, id);
    if (!row) return;
    await this.store.setStatus(id, "PROVISIONING");
    try {
      const network = await this.containers.ensureTenantNetwork(tenant.id, tenant.slug);
      const nodes = await this.store.nodeRows(tenant.id, id);
      const failures = await forEachLimited(nodes, this.options.parallelism, async (node) => {
        await this.store.setNode(id, node.name, { status: "PROVISIONING", statusMessage: null });
        try {
          const identity = { tenantId: tenant.id, tenantSlug: tenant.slug, simulationId: id, simulationName: row.name, nodeName: node.name };
          const { containerId, ip } = await this.containers.run(identity, row.image, network).catch(async (error) => {
            // The tenant's last other simulation may have been deleted just now, taking the network with it.
            if (dockerStatus(error) !== 404) throw error;
            return this.containers.run(identity, row.image, await this.containers.ensureTenantNetwork(tenant.id, tenant.slug));
          });
          await this.store.setNode(id, node.name, { containerId, status: "RUNNING" });
          if (node.sshPort) await this.forwarder.open(node.sshPort, ip);
        } catch (error) {
          await this.store.setNode(id, node.name, { status: "FAILED", statusMessage: errorMessage(error) });
          throw error;
        }
      });
      const failed = failures.flatMap((failure, index) => (failure ? [`${nodes[index]!.name}: ${errorMessage(failure)}`] : []));
      if (failed.length > 0) throw new Error(failed.join("; "));
      await this.store.transition(id, ["PROVISIONING"], "RUNNING");
    } catch (error) {
      this.log.warn({ err: error, simulationId: id }, "simulation failed to provision");
      await this.store.setStatus(id, "FAILED", `Provisioning failed: ${errorMessage(error)}`);
    }
  }

  private async stopContainers(tenant: TenantRef, id: string): Promise<void> {
    // No early return for STOPPED: a node may have been started outside the API since, and stop means stopped.
    if (!(await this.store.row(tenant.id, id))) return;
    await this.store.setStatus(id, "STOPPING");
    try {
      const nodes = await this.store.nodeRows(tenant.id, id);
      const failures = await forEachLimited(nodes, this.options.parallelism, async (node) => {
        await this.store.setNode(id, node.name, { status: "STOPPING" });
        if (node.sshPort) await this.forwarder.close(node.sshPort);
        if (node.containerId) await this.containers.stop(node.containerId);
        await this.store.setNode(id, node.name, { status: "STOPPED", statusMessage: null });
      });
      const failure = failures.find(Boolean);
      if (failure) throw failure;
      await this.store.transition(id, ["STOPPING"], "STOPPED");
    } catch (error) {
      await this.store.setStatus(id, "FAILED", `Stopping failed: ${errorMessage(error)}`);
    }
  }

  /** Applies one of Docker's events for our containers: what happened outside the API shows up as such. */
  async applyContainerEvent(event: ContainerEvent): Promise<void> {
    const simulation = await this.store.byId(event.simulationId);
    if (!simulation) {
      if (event.action !== "destroy" && !this.operations.isBusy(event.simulationId)) await this.containers.remove(event.containerId);
      return;
    }
    const node = (await this.store.nodeRows(simulation.tenantId, simulation.id)).find((candidate) => candidate.name === event.nodeName);
    if (!node) return;
    const deliberate = simulation.status === "STOPPING" || simulation.status === "STOPPED" || node.status === "STOPPING" || node.status === "STOPPED";
    switch (event.action) {
      case "start": {
        // While we provision or stop, node statuses are ours to write (a failed port bind must stay FAILED).
        if (simulation.status === "STOPPING" || simulation.status === "PROVISIONING") return;
        await this.store.setNode(simulation.id, node.name, { status: "RUNNING", statusMessage: null, containerId: event.containerId });
        await this.forward(node, event.containerId);
        if (simulation.status === "STOPPED" || simulation.status === "FAILED") await this.settleWhenAllRunning(simulation);
        return;
      }
      case "die": {
        if (node.sshPort) await this.forwarder.close(node.sshPort);
        if (deliberate) {
          await this.store.setNode(simulation.id, node.name, { status: "STOPPED" });
          return;
        }
        const why = `${node.name} stopped outside kombify (exit code ${event.exitCode ?? "unknown"}).`;
        await this.store.setNode(simulation.id, node.name, { status: "FAILED", statusMessage: why }, ["RUNNING", "PROVISIONING"]);
        await this.store.transition(simulation.id, ["RUNNING", "PROVISIONING"], "FAILED", why);
        return;
      }
      case "destroy": {
        if (node.containerId !== event.containerId) return;
        if (deliberate) {
          await this.store.setNode(simulation.id, node.name, { containerId: null });
          return;
        }
        const why = `${node.name}'s container was removed outside kombify.`;
        await this.store.setNode(simulation.id, node.name, { containerId: null, status: "FAILED", statusMessage: why });
        await this.store.transition(simulation.id, ["RUNNING", "PROVISIONING", "STOPPED"], "FAILED", why);
        return;
      }
    }
  }

  private async forward(node: SimulationNodeRow, containerId: string): Promise<void> {
    if (!node.sshPort) return;
    const ip = await this.containers.addressOf(containerId);
    if (!ip) return;
    await this.forwarder.open(node.sshPort, ip).catch((error) => this.log.warn({ err: error, port: node.sshPort }, "could not publish a node's SSH port"));
  }

  private async settleWhenAllRunning(simulation: SimulationRow): Promise<void> {
    const nodes = await this.store.nodeRows(simulation.tenantId, simulation.id);
    if (nodes.every((node) => node.status === "RUNNING")) await this.store.transition(simulation.id, ["STOPPED", "FAILED"], "RUNNING");
  }

  /**
   * Rebuilds state from PostgreSQL and the engine's labels: containers of simulations that no longer exist are
   * removed, nodes whose containers are missing or stopped mark their simulation FAILED, interrupted transitions
   * are finished, and running nodes get their SSH ports published again.
   */
  async reconcile(): Promise<void> {
    const [{ simulations, nodes }, containers] = await Promise.all([this.store.everything(), this.containers.list()]);
    const known = new Set(nodes.map((node) => `${node.simulationId}/${node.name}`));
    for (const container of containers) {
      if (known.has(`${container.simulationId}/${container.nodeName}`) || this.operations.isBusy(container.simulationId)) continue;
      await this.containers.remove(container.id);
      this.log.info({ container: container.name }, "removed a container whose simulation no longer exists");
    }
    // Each simulation in turn with its other operations, from fresh reads, so a mutation is never overwritten.
    for (const simulation of simulations) await this.operations.run(simulation.id, () => this.reconcileSimulation(simulation.id));
  }

  private async reconcileSimulation(id: string): Promise<void> {
    const simulation = await this.store.byId(id);
    if (!simulation) return;
    const containers = new Map((await this.containers.list(id)).map((container) => [container.nodeName, container]));
    const problems: string[] = [];
    const states: NodeStatus[] = [];
    for (const node of await this.store.nodeRows(simulation.tenantId, id)) {
      const container = containers.get(node.name);
      if (!container) {
        if (node.containerId || simulation.status !== "PENDING") problems.push(`${node.name}'s container is missing`);
        await this.store.setNode(id, node.name, { containerId: null, status: "FAILED", statusMessage: "The container is missing." });
        states.push("FAILED");
      } else if (container.running) {
        await this.store.setNode(id, node.name, { containerId: container.id, status: "RUNNING", statusMessage: null });
        await this.forward(node, container.id);
        states.push("RUNNING");
      } else {
        const expected = simulation.status === "STOPPED" || simulation.status === "STOPPING";
        if (!expected) problems.push(`${node.name} stopped while KombiSim was not watching`);
        await this.store.setNode(id, node.name, { containerId: container.id, status: expected ? "STOPPED" : "FAILED" });
        states.push(expected ? "STOPPED" : "FAILED");
      }
    }
    await this.settleAfterRestart(simulation, states, problems);
  }

  private async settleAfterRestart(simulation: SimulationRow, states: NodeStatus[], problems: string[]): Promise<void> {
    const allRunning = states.length > 0 && states.every((state) => state === "RUNNING");
    switch (simulation.status) {
      case "PENDING":
      case "PROVISIONING":
        if (allRunning) await this.store.setStatus(simulation.id, "RUNNING");
        else await this.store.setStatus(simulation.id, "FAILED", "Provisioning was interrupted by a restart; start the simulation again or delete it.");
        return;
      case "STOPPING":
        for (const node of await this.store.nodeRows(simulation.tenantId, simulation.id)) {
          if (node.containerId) await this.containers.stop(node.containerId);
          await this.store.setNode(simulation.id, node.name, { status: "STOPPED" });
        }
        await this.store.setStatus(simulation.id, "STOPPED");
        return;
      case "RUNNING":
        if (problems.length > 0) await this.store.setStatus(simulation.id, "FAILED", `${problems.join("; ")}.`);
        return;
      case "FAILED":
        if (allRunning) await this.store.setStatus(simulation.id, "RUNNING");
        return;
      case "STOPPED":
        return;
    }
  }
}
