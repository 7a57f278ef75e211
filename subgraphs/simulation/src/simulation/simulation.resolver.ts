import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from "type-graphql";
import { errors, requireTenant, type RequestContext } from "@kombify/service-core";
import type { SimulationStore } from "./simulation-store.js";
import { SimulatedNode, Simulation, StackKitReference } from "./simulation.type.js";

@Resolver(() => Simulation)
export class SimulationResolver {
  constructor(private readonly store: SimulationStore) {}

  @Authorized()
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
  @Mutation(() => Simulation)
  createSimulation(
    @Ctx() context: RequestContext,
    @Arg("name", () => String) _name: string,
    @Arg("nodeCount", () => Int) _nodeCount: number,
    @Arg("image", () => String, { nullable: true }) _image?: string | null,
    @Arg("stackKitId", () => ID, { nullable: true }) _stackKitId?: string | null,
  ): Simulation {
    requireTenant(context);
    throw errors.notYetAvailable("createSimulation");
  }

  @Authorized()
  @Mutation(() => Simulation)
  async startSimulation(@Ctx() context: RequestContext, @Arg("id", () => ID) id: string): Promise<Simulation> {
    await this.ownSimulation(context, id);
    throw errors.notYetAvailable("startSimulation");
  }

  @Authorized()
  @Mutation(() => Simulation)
  async stopSimulation(@Ctx() context: RequestContext, @Arg("id", () => ID) id: string): Promise<Simulation> {
    await this.ownSimulation(context, id);
    throw errors.notYetAvailable("stopSimulation");
  }

  @Authorized()
  @Mutation(() => Boolean)
  async deleteSimulation(@Ctx() context: RequestContext, @Arg("id", () => ID) id: string): Promise<boolean> {
    await this.ownSimulation(context, id);
    throw errors.notYetAvailable("deleteSimulation");
  }

  @Authorized()
  @Subscription(() => Simulation, {
    description: "Every status change of a simulation of the caller's tenant, or of its nodes; narrowed to one when given.",
    subscribe: () => {
      throw errors.notYetAvailable("simulationUpdated");
    },
  })
  simulationUpdated(@Root() simulation: Simulation, @Arg("id", () => ID, { nullable: true }) _id?: string | null): Simulation {
    return simulation;
  }

  private async ownSimulation(context: RequestContext, id: string): Promise<Simulation> {
    const simulation = await this.store.get(requireTenant(context).id, id);
    if (!simulation) throw errors.notFound("Simulation", id);
    return simulation;
  }

  @FieldResolver(() => [SimulatedNode])
  nodes(@Root() simulation: Simulation, @Ctx() context: RequestContext): Promise<SimulatedNode[]> {
    return this.store.nodesOf(requireTenant(context).id, simulation.id);
  }

  @FieldResolver(() => StackKitReference, { nullable: true })
  stackKit(@Root() simulation: Simulation): StackKitReference | null {
    return simulation.stackKitId ? { id: simulation.stackKitId } : null;
  }
}
