import { z } from "zod";
import { buildFederatedSubgraph, resolverContainer } from "@kombify/service-core/federation/subgraph-schema";
import { DRAIN_GRACE_MS } from "@kombify/service-core/server";
import { connectDockerEngine } from "@kombify/simulation-containers";
import { envTypes } from "@kombify/service-core/config";
import type { RequestContext } from "@kombify/service-core/auth";
import { Entitlements, PlanCatalog, planCatalogSettingsShape } from "@kombify/plan-catalog";
import { StackKitCatalog, stackKitCatalogSettingsShape } from "@kombify/stackkit-catalog";
import { defineSubgraph } from "@kombify/service-core/server/subgraph-runtime";
import { simulationMigrations } from "./db/schema.js";
import { ContainerEvents } from "./engine/container-events.js";
import { NodeContainers } from "./engine/node-containers.js";
import { SimulationEvents } from "./simulation/simulation-events.js";
import { waitAtMost } from "./simulation/simulation-operations.js";
import { SimulationService } from "./simulation/simulation-service.js";
import { SimulationStore } from "./simulation/simulation-store.js";
import { SimulationResolver } from "./simulation/simulation.resolver.js";
import { SshForwarder } from "./ssh/ssh-forwarder.js";
import { parsePortRange } from "./ssh/ssh-port-pool.js";

const IMAGE_REFERENCE = /^[a-z0-9][a-z0-9._\/-]*(:[A-Za-z0-9._-]{1,128})?$/;

const simulationSettings = {
  DOCKER_HOST: envTypes.dockerHost(),
  SIMULATION_IMAGES: z
    .string()
    .default("kombify/sim-node:1")
    .transform((value) => value.split(",").map((image) => image.trim()).filter(Boolean))
    .refine((images) => images.length > 0 && images.every((image) => IMAGE_REFERENCE.test(image)))
    .describe("a comma-separated list of node images (the first is the default)"),
  SIMULATION_SSH_HOST: z.string().min(1).default("127.0.0.1").describe("the host name clients use to reach published SSH ports"),
  SIMULATION_SSH_BIND: z.string().min(1).default("127.0.0.1").describe("the interface SSH ports are published on"),
  SIMULATION_SSH_PORTS: z
    .string()
    .default("22200-22999")
    .transform((value, context) => {
      const range = parsePortRange(value);
      if (!range) context.addIssue({ code: "custom", message: "invalid range" });
      return range ?? { first: 0, last: 0 };
    })
    .describe("a port range like 22200-22999 (within 1024-65535)"),
  SIMULATION_NETWORK_INTERNAL: envTypes.boolean(true),
  SIMULATION_NODE_MEMORY_MB: z.coerce.number().int().min(16).max(65_536).default(128).describe("megabytes of memory per node, 16 to 65536"),
  SIMULATION_NODE_CPUS: z.coerce.number().min(0.05).max(64).default(0.5).describe("CPUs per node, 0.05 to 64"),
  SIMULATION_MUTATION_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(10_000).describe("milliseconds a mutation waits for containers"),
};

/** KombiSim: simulated homelab nodes as containers on a real Docker engine, with rows per tenant in PostgreSQL. */
export const simulationSubgraph = defineSubgraph({
  name: "simulation",
  settings: { ...simulationSettings, ...planCatalogSettingsShape, ...stackKitCatalogSettingsShape },
  async create(runtime, settings) {
    const entitlements = new Entitlements(PlanCatalog.load(settings.PLANS_FILE));
    const stackkits = StackKitCatalog.load(settings.STACKKITS_DIR);
    await runtime.migrate(simulationMigrations);
    const installation = runtime.installationId;
    const engine = connectDockerEngine(settings.DOCKER_HOST);
    const store = new SimulationStore(runtime.db, settings.SIMULATION_SSH_HOST);
    const containers = new NodeContainers(engine, {
      installation,
      internalNetworks: settings.SIMULATION_NETWORK_INTERNAL,
      limits: { memoryBytes: settings.SIMULATION_NODE_MEMORY_MB * 1024 * 1024, nanoCpus: Math.round(settings.SIMULATION_NODE_CPUS * 1e9), pids: 256 },
    });
    const forwarder = new SshForwarder(settings.SIMULATION_SSH_BIND, runtime.log, (address) => containers.isSimulationAddress(address));
    const service = new SimulationService(runtime.db, store, containers, forwarder, entitlements, stackkits, {
      images: settings.SIMULATION_IMAGES,
      sshPorts: settings.SIMULATION_SSH_PORTS,
      mutationWaitMs: settings.SIMULATION_MUTATION_WAIT_MS,
      parallelism: 4,
    }, runtime.log);
    const events = new SimulationEvents(runtime.database.sql, store, runtime.log);
    const engineEvents = new ContainerEvents(engine, installation, runtime.log, (event) => service.applyContainerEvent(event), () => service.reconcile());
    const subgraph = await buildFederatedSubgraph({
      resolvers: [SimulationResolver],
      container: resolverContainer([new SimulationResolver(store, service)]),
      referenceResolvers: {
        Simulation: {
          __resolveReference: (reference: { id: string }, context: RequestContext) =>
            context.caller.kind === "user" && context.caller.tenant ? store.get(context.caller.tenant.id, reference.id) : null,
        },
      },
    });
    SimulationResolver.events.bind(subgraph.schema, events);
    return {
      subgraph,
      // Docker is not a readiness condition: without it simulations answer UNAVAILABLE and everything else works.
      readiness: { database: runtime.checks.database },
      start: async () => {
        await events.start();
        // The first reconciliation is waited for briefly; a slow or hung engine must not hold up the service.
        await waitAtMost(engineEvents.start(), 5000);
      },
      stop: async () => {
        engineEvents.stop();
        await waitAtMost(service.idle(), DRAIN_GRACE_MS);
        await forwarder.closeAll();
        await events.stop();
      },
    };
  },
});
