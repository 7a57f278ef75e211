import { BlockList, isIP, isIPv6 } from "node:net";
import type Docker from "dockerode";
import { callEngine, dockerStatus, installationLabels, labelFilters, SIMULATION_LABELS, simulationContainerLabels, simulationContainerName, tenantNetworkName, type DockerEngine, type SimulationNodeIdentity } from "@kombify/simulation-containers";
import { errors } from "@kombify/service-core/errors";

export interface NodeContainerLimits {
  memoryBytes: number;
  nanoCpus: number;
  pids: number;
}

export interface ManagedContainer {
  id: string;
  name: string;
  running: boolean;
  tenantId: string;
  simulationId: string;
  nodeName: string;
}

/** How often unknown addresses may have the simulation subnets read again from the engine. */
const SUBNETS_REREAD_MS = 2000;

/**
 * The Docker side of simulations: tenant networks and node containers, always named and labelled through the
 * naming module from validated slugs and ids. Containers get resource limits, no privileges, no host mounts and
 * only their tenant's network.
 */
export class NodeContainers {
  constructor(
    readonly engine: DockerEngine,
    private readonly options: { installation: string; internalNetworks: boolean; limits: NodeContainerLimits },
  ) {}

  private simulationSubnets = new BlockList();
  /** When the subnets were last read; 0 makes the next unknown address read them again. */
  private subnetsReadAt = 0;
  private subnetsReading: Promise<void> | null = null;

  /**
   * Whether `address` lies in a KombiSim network (of any installation on this engine). An address not in the
   * known subnets has them read again, at most every SUBNETS_REREAD_MS and once for all who ask meanwhile:
   * every SSH connection from outside is such an address. This installation's own new networks are known at
   * once (creating one makes the next check read again); another installation's, within that interval.
   */
  async isSimulationAddress(address: string): Promise<boolean> {
    const family = isIPv6(address) ? "ipv6" : "ipv4";
    if (this.simulationSubnets.check(address, family)) return true;
    if (Date.now() - this.subnetsReadAt >= SUBNETS_REREAD_MS) {
      this.subnetsReading ??= this.readSimulationSubnets()
        .then((subnets) => {
          this.simulationSubnets = subnets;
          this.subnetsReadAt = Date.now();
        })
        .finally(() => {
          this.subnetsReading = null;
        });
      await this.subnetsReading;
    }
    return this.simulationSubnets.check(address, family);
  }

  private async readSimulationSubnets(): Promise<BlockList> {
    const networks = await this.call(() => this.docker.listNetworks({ filters: { label: [SIMULATION_LABELS.managedBy] } }));
    const subnets = new BlockList();
    for (const network of networks) {
      for (const { Subnet } of network.IPAM?.Config ?? []) {
        const [prefix, bits] = (Subnet ?? "").split("/");
        if (prefix && bits && isIP(prefix)) subnets.addSubnet(prefix, Number(bits), isIPv6(prefix) ? "ipv6" : "ipv4");
      }
    }
    return subnets;
  }

  private get docker(): Docker {
    return this.engine.docker;
  }

  private call<T>(fn: () => Promise<T>): Promise<T> {
    return callEngine(this.engine, fn);
  }

  /** The tenant's network, created on first use; concurrent creators end up with the same one. */
  async ensureTenantNetwork(tenantId: string, tenantSlug: string): Promise<string> {
    const name = tenantNetworkName(tenantSlug);
    const existing = await this.findNetwork(name);
    if (existing) {
      if (existing.Labels?.[SIMULATION_LABELS.tenant] !== tenantId) {
        throw errors.conflict(`The Docker network ${name} exists on the engine but is not this tenant's; it was left alone.`);
      }
      return name;
    }
    try {
      await this.call(() =>
        this.docker.createNetwork({
          Name: name,
          Driver: "bridge",
          Internal: this.options.internalNetworks,
          CheckDuplicate: true,
          Labels: {
            ...installationLabels(this.options.installation),
            [SIMULATION_LABELS.tenant]: tenantId,
          },
        }),
      );
    } catch (error) {
      if (dockerStatus(error) !== 409) throw error;
    }
    this.subnetsReadAt = 0;
    return name;
  }

  /** Removes the tenant's network once nothing is attached (address pools are finite). */
  async removeTenantNetworkIfUnused(tenantSlug: string): Promise<void> {
    const name = tenantNetworkName(tenantSlug);
    const network = await this.findNetwork(name);
    if (!network) return;
    try {
      const details = await this.call(() => this.docker.getNetwork(network.Id).inspect());
      if (Object.keys(details.Containers ?? {}).length > 0) return;
      await this.call(() => this.docker.getNetwork(network.Id).remove());
    } catch (error) {
      const status = dockerStatus(error);
      if (status !== 404 && status !== 403 && status !== 409) throw error;
    }
  }

  private async findNetwork(name: string): Promise<Docker.NetworkInspectInfo | undefined> {
    const networks = await this.call(() => this.docker.listNetworks({ filters: { name: [name] } }));
    return networks.find((network) => network.Name === name);
  }

  /** Creates and starts a node's container (or starts the one already there); returns its id and address. */
  async run(identity: Omit<SimulationNodeIdentity, "installation">, image: string, network: string): Promise<{ containerId: string; ip: string }> {
    const node: SimulationNodeIdentity = { ...identity, installation: this.options.installation };
    const name = simulationContainerName(node);
    let container = this.docker.getContainer(name);
    try {
      await this.call(() =>
        this.docker.createContainer({
          name,
          Image: image,
          Hostname: node.nodeName,
          Labels: simulationContainerLabels(node),
          HostConfig: {
            NetworkMode: network,
            Memory: this.options.limits.memoryBytes,
            NanoCpus: this.options.limits.nanoCpus,
            PidsLimit: this.options.limits.pids,
            Privileged: false,
            Init: true,
            Binds: [],
            CapDrop: ["NET_RAW", "MKNOD", "AUDIT_WRITE"],
            SecurityOpt: ["no-new-privileges"],
            RestartPolicy: { Name: "no" },
          },
          NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: [node.nodeName] } } },
        }),
      );
    } catch (error) {
      if (dockerStatus(error) !== 409) throw error;
      container = this.docker.getContainer(name);
      const labels = (await this.call(() => container.inspect())).Config.Labels ?? {};
      if (labels[SIMULATION_LABELS.installation] !== node.installation || labels[SIMULATION_LABELS.simulation] !== node.simulationId) {
        throw errors.conflict(`A container named ${name} exists on the engine but belongs to something else; it was left alone.`);
      }
    }
    try {
      await this.call(() => container.start());
    } catch (error) {
      if (dockerStatus(error) !== 304) throw error;
    }
    const details = await this.call(() => container.inspect());
    return { containerId: details.Id, ip: details.NetworkSettings.Networks[network]?.IPAddress ?? "" };
  }

  /** The container's address on its tenant network, if it runs. */
  async addressOf(containerId: string): Promise<string | null> {
    try {
      const details = await this.call(() => this.docker.getContainer(containerId).inspect());
      if (!details.State.Running) return null;
      const networks = Object.values(details.NetworkSettings.Networks);
      return networks[0]?.IPAddress || null;
    } catch (error) {
      if (dockerStatus(error) === 404) return null;
      throw error;
    }
  }

  async stop(containerId: string, timeoutSeconds = 3): Promise<void> {
    try {
      await this.call(() => this.docker.getContainer(containerId).stop({ t: timeoutSeconds }));
    } catch (error) {
      const status = dockerStatus(error);
      if (status !== 304 && status !== 404) throw error;
    }
  }

  async remove(containerId: string): Promise<void> {
    try {
      await this.call(() => this.docker.getContainer(containerId).remove({ force: true, v: true }));
    } catch (error) {
      const status = dockerStatus(error);
      if (status !== 404 && status !== 409) throw error;
    }
  }

  /** Every container KombiSim manages on this engine, or only one simulation's. */
  async list(simulationId?: string): Promise<ManagedContainer[]> {
    const labels = installationLabels(this.options.installation);
    if (simulationId) labels[SIMULATION_LABELS.simulation] = simulationId;
    const containers = await this.call(() => this.docker.listContainers({ all: true, filters: { label: labelFilters(labels) } }));
    return containers.map((container) => ({
      id: container.Id,
      name: (container.Names[0] ?? "").replace(/^\//, ""),
      running: container.State === "running",
      tenantId: container.Labels[SIMULATION_LABELS.tenant] ?? "",
      simulationId: container.Labels[SIMULATION_LABELS.simulation] ?? "",
      nodeName: container.Labels[SIMULATION_LABELS.node] ?? "",
    }));
  }
}
