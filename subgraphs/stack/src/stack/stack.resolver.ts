import { Directive, Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import { errors } from "@kombify/service-core/errors";
import { recordAudit } from "@kombify/service-core/audit";
import { requireTenant, type RequestContext } from "@kombify/service-core/auth";
import { serializedBy, type Db } from "@kombify/service-core/database";
import type { Entitlements } from "@kombify/plan-catalog";
import type { StackKitCatalog } from "@kombify/stackkit-catalog";
import type { JobService } from "../job/job-service.js";
import type { SimulationLinks } from "../simulation/simulation-links.js";
import { Job } from "../job/job.type.js";
import { Node } from "../node/node.type.js";
import type { HomelabStores } from "./homelab-stores.js";
import { validateNewStack } from "./stack-input.js";
import { stackWritesOf } from "./stack-write-lock.js";
import { NodeInput, SimulationReference, Stack, StackKitReference } from "./stack.type.js";

const MAX_JOBS = 100;

@Resolver(() => Stack)
export class StackResolver {
  constructor(
    private readonly stores: HomelabStores,
    private readonly stackkits: StackKitCatalog,
    private readonly entitlements: Entitlements,
    private readonly db: Db,
    private readonly jobService: JobService,
    private readonly simulations: SimulationLinks,
  ) {}

  @Authorized()
  @Query(() => [Stack], { description: "The caller's tenant's stacks, newest first." })
  async stacks(@Ctx() context: RequestContext): Promise<Stack[]> {
    return (await this.stores.of(context)).stacks();
  }

  @Authorized()
  @Query(() => Stack, { nullable: true })
  async stack(@Ctx() context: RequestContext, @Arg("id", () => ID) id: string): Promise<Stack | null> {
    return (await this.stores.of(context)).stack(id);
  }

  @Authorized()
  @Mutation(() => Stack, {
    description:
      "Creates a stack on the given nodes, or, with simulationId (and nodes: []), on a simulation's nodes: its deploys then run " +
      "the kit's steps inside the simulation's containers.",
  })
  async createStack(
    @Ctx() context: RequestContext,
    @Arg("name", () => String) name: string,
    @Arg("stackKitId", () => ID) stackKitId: string,
    @Arg("nodes", () => [NodeInput]) nodes: NodeInput[],
    @Arg("simulationId", () => ID, { nullable: true }) simulationId?: string | null,
  ): Promise<Stack> {
    const tenant = requireTenant(context);
    if (simulationId != null && nodes.length > 0) throw errors.badInput("nodes", "must be empty when simulationId is given: the simulation's nodes are the stack's.");
    const input = validateNewStack(name, simulationId != null ? await this.simulations.nodesOf(tenant, simulationId) : nodes);
    const kit = this.stackkits.find(stackKitId);
    if (!kit) throw errors.badInput("stackKitId", `no StackKit "${stackKitId}" exists.`);
    this.entitlements.assertCovers(tenant.plan, kit.tier, kit.name);
    const store = await this.stores.of(context);
    // The count, the name check and the create as one step per tenant: concurrent creates queue here.
    const stack = await serializedBy(this.db, stackWritesOf(tenant.id), async (tx) => {
      this.entitlements.assertWithinQuota(tenant.plan, "stacks", await store.countStacks());
      if (await store.stackNamed(input.name)) throw errors.conflict(`A stack named "${input.name}" already exists.`);
      const created = await store.createStack({ name: input.name, stackKitId: kit.id, nodes: input.nodes });
      if (simulationId != null) await this.simulations.link(tenant.id, created.id, simulationId, tx);
      return created;
    });
    await recordAudit(this.db, context, { action: "stack.create", target: `stack:${stack.id}`, details: { stackKitId: kit.id } });
    return stack;
  }

  @Authorized()
  @Mutation(() => Boolean)
  async deleteStack(@Ctx() context: RequestContext, @Arg("id", () => ID) id: string): Promise<boolean> {
    const deleted = await (await this.stores.of(context)).deleteStack(id);
    if (!deleted) throw errors.notFound("Stack", id);
    await this.simulations.unlink(requireTenant(context).id, id);
    await recordAudit(this.db, context, { action: "stack.delete", target: `stack:${id}` });
    return true;
  }

  @Authorized()
  @Directive("@cost(weight: 10)")
  @Mutation(() => Job, { description: "Queues a deploy of the stack's kit onto its nodes; CONFLICT while another job of the stack is active." })
  deployStack(@Ctx() context: RequestContext, @Arg("id", () => ID) id: string): Promise<Job> {
    return this.jobService.deploy(context, id);
  }

  @FieldResolver(() => StackKitReference)
  stackKit(@Root() stack: Stack): StackKitReference {
    return { id: stack.stackKitId };
  }

  @FieldResolver(() => SimulationReference, { nullable: true, description: "The simulation whose nodes this stack deploys onto, if any." })
  async simulation(@Root() stack: Stack, @Ctx() context: RequestContext): Promise<SimulationReference | null> {
    const id = await this.simulations.batchedFor(context).load(stack.id);
    return id && id !== "deleted" ? { id } : null;
  }

  @Directive("@listSize(assumedSize: 10)")
  @FieldResolver(() => [Node])
  async nodes(@Root() stack: Stack, @Ctx() context: RequestContext): Promise<Node[]> {
    return (await this.stores.batchedFor(context)).nodesOf(stack.id);
  }

  @FieldResolver(() => [Job])
  async jobs(
    @Root() stack: Stack,
    @Ctx() context: RequestContext,
    @Arg("last", () => Int, { defaultValue: 20 }) last: number,
  ): Promise<Job[]> {
    if (last < 1 || last > MAX_JOBS) throw errors.badInput("last", `must be between 1 and ${MAX_JOBS}.`);
    return (await this.stores.batchedFor(context)).jobsOf(stack.id, last);
  }
}
