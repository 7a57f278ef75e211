import { Directive, Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from "type-graphql";
import { batchLoader, PerRequest, SchemaBoundSources } from "@kombify/service-core/graphql";
import { requireTenant, type RequestContext } from "@kombify/service-core/auth";
import type { SimulationEvents } from "./simulation-events.js";
import type { SimulationService } from "./simulation-service.js";
import type { SimulationStore } from "./simulation-store.js";
import { SimulatedNode, Simulation, StackKitReference } from "./simulation.type.js";

@Resolver(() => Simulation)
export class SimulationResolver {
  constructor(
    private readonly store: SimulationStore,
    private readonly service: SimulationService,
  ) {}

  static readonly events = new SchemaBoundSources<SimulationEvents>("Simulation updates");

  /** Every listed simulation's nodes in one query per operation, not one per simulation. */
  private readonly nodesBatch = new PerRequest((context: RequestContext) => {
    const tenantId = requireTenant(context).id;
    return batchLoader(async (simulationIds: string[]) => {
      const found = await this.store.nodesOfSimulations(tenantId, simulationIds);
      return simulationIds.map((id) => found.get(id) ?? []);
    });
  });

  @Authorized()
  @Directive("@listSize(assumedSize: 10)")
  @Query(() => [Simulation], { description: "The caller's tenant's simulations, newest first." })
  simulations(@Ctx() context: RequestContext): Promise<Simulation[]> {
    return this.store.list(requireTenant(context).id);
  }

  @Authorized()
  @Query(() => Simulation, { nullable: true })
  simulation(@Ctx() context: RequestContext, @Arg("id", () => ID) id: string): Promise<Simulation | null> {
    return this.store.get(requireTenant(context).id, id);
  }

  @Authorized()
  // Containers, a network and SSH ports on the engine: the costliest thing one operation can ask for.
  @Directive("@cost(weight: 50)")
  @Mutation(() => Simulation, {
    description:
      "Creates nodeCount containers (node-1 … node-N) on the tenant's network, each with its own SSH port. Answers once they run " +
      "(or after a few seconds with the state so far: watch simulationUpdated). QUOTA_EXCEEDED beyond the plan's limits.",
  })
  createSimulation(
    @Ctx() context: RequestContext,
    @Arg("name", () => String, { description: "1 to 32 lower-case letters, digits and '-'; unique in the tenant." }) name: string,
    @Arg("nodeCount", () => Int) nodeCount: number,
    @Arg("image", () => String, { nullable: true, description: "One of the deployment's node images; the default when omitted." }) image?: string | null,
    @Arg("stackKitId", () => ID, { nullable: true }) stackKitId?: string | null,
  ): Promise<Simulation> {
    return this.service.create(context, { name, nodeCount, image, stackKitId });
  }

  @Authorized()
  @Mutation(() => Simulation, { description: "Starts a STOPPED or FAILED simulation's nodes again, recreating missing containers." })
  startSimulation(@Ctx() context: RequestContext, @Arg("id", () => ID) id: string): Promise<Simulation> {
    return this.service.start(context, id);
  }

  @Authorized()
  @Mutation(() => Simulation, { description: "Stops the simulation's containers; they keep their SSH ports." })
  stopSimulation(@Ctx() context: RequestContext, @Arg("id", () => ID) id: string): Promise<Simulation> {
    return this.service.stop(context, id);
  }

  @Authorized()
  @Mutation(() => Boolean, { description: "Removes the simulation's containers and releases their SSH ports." })
  deleteSimulation(@Ctx() context: RequestContext, @Arg("id", () => ID) id: string): Promise<boolean> {
    return this.service.delete(context, id);
  }

  @Authorized()
  @Subscription(() => Simulation, {
    description: "Every status change of a simulation of the caller's tenant, or of its nodes; narrowed to one when given.",
    subscribe: ({ args, context, info }) => SimulationResolver.events.of(info).subscribe(context as RequestContext, (args as { id?: string | null }).id ?? null),
  })
  simulationUpdated(@Root() simulation: Simulation, @Arg("id", () => ID, { nullable: true }) _id?: string | null): Simulation {
    return simulation;
  }

  @Directive("@listSize(assumedSize: 10)")
  @FieldResolver(() => [SimulatedNode])
  nodes(@Root() simulation: Simulation, @Ctx() context: RequestContext): Promise<SimulatedNode[]> {
    return simulation.loadedNodes ? Promise.resolve(simulation.loadedNodes) : this.nodesBatch.of(context).load(simulation.id);
  }

  @FieldResolver(() => StackKitReference, { nullable: true })
  stackKit(@Root() simulation: Simulation): StackKitReference | null {
    return simulation.stackKitId ? { id: simulation.stackKitId } : null;
  }
}
