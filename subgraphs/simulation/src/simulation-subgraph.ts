import { z } from "zod";
import { buildFederatedSubgraph, parseEnv, resolverContainer, type RequestContext, type SubgraphFactory } from "@kombify/service-core";
import { SimulationStore } from "./simulation/simulation-store.js";
import { SimulationResolver } from "./simulation/simulation.resolver.js";

const simulationSettings = {
  SIMULATION_SSH_HOST: z.string().min(1).default("127.0.0.1").describe("the host name clients use to reach published SSH ports"),
};

/** KombiSim: simulated homelab nodes as containers, with rows per tenant in PostgreSQL. */
export const createSimulationSubgraph: SubgraphFactory = async (runtime) => {
  const settings = parseEnv(simulationSettings, runtime.env);
  const store = new SimulationStore(runtime.db, settings.SIMULATION_SSH_HOST);
  const subgraph = await buildFederatedSubgraph({
    resolvers: [SimulationResolver],
    container: resolverContainer([new SimulationResolver(store)]),
    referenceResolvers: {
      Simulation: {
        __resolveReference: (reference: { id: string }, context: RequestContext) =>
          context.caller.kind === "user" && context.caller.tenant ? store.get(context.caller.tenant.id, reference.id) : null,
      },
    },
  });
  return { subgraph, readiness: { database: runtime.checks.database } };
};
