import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from "type-graphql";
import { errors } from "@kombify/service-core/errors";
import { SchemaBoundSources } from "@kombify/service-core/graphql";
import type { RequestContext } from "@kombify/service-core/auth";
import type { HomelabStores } from "../stack/homelab-stores.js";
import { Stack } from "../stack/stack.type.js";
import type { JobEvents, JobFilter } from "./job-events.js";
import type { JobService } from "./job-service.js";
import { Job } from "./job.type.js";

const MAX_LOG_TAIL = 10_000;

@Resolver(() => Job)
export class JobResolver {
  constructor(
    private readonly stores: HomelabStores,
    private readonly jobs: JobService,
  ) {}

  @Authorized()
  @Query(() => Job, { nullable: true })
  async job(@Ctx() context: RequestContext, @Arg("id", () => ID) id: string): Promise<Job | null> {
    return (await this.stores.of(context)).job(id);
  }

  @Authorized()
  @Mutation(() => Job)
  cancelJob(@Ctx() context: RequestContext, @Arg("id", () => ID) id: string): Promise<Job> {
    return this.jobs.cancel(context, id);
  }

  static readonly events = new SchemaBoundSources<JobEvents>("Job updates");

  @Subscription(() => Job, {
    description: "Every change of a job of the caller's tenant; narrowed to one job or one stack when given.",
    subscribe: ({ args, context, info }) => JobResolver.events.of(info).subscribe(context as RequestContext, args as JobFilter),
  })
  jobUpdated(
    @Root() job: Job,
    @Arg("jobId", () => ID, { nullable: true }) _jobId?: string | null,
    @Arg("stackId", () => ID, { nullable: true }) _stackId?: string | null,
  ): Job {
    return job;
  }

  @FieldResolver(() => [String])
  logs(@Root() job: Job, @Arg("tail", () => Int, { defaultValue: 100 }) tail: number): string[] {
    if (tail < 0 || tail > MAX_LOG_TAIL) throw errors.badInput("tail", `must be between 0 and ${MAX_LOG_TAIL}.`);
    return tail === 0 ? [] : job.allLogs.slice(-tail);
  }

  @FieldResolver(() => Stack)
  async stack(@Root() job: Job, @Ctx() context: RequestContext): Promise<Stack> {
    if (job.expandedStack) return job.expandedStack;
    const stack = await (await this.stores.batchedFor(context)).stack(job.stackId);
    if (!stack) throw errors.notFound("Stack", job.stackId);
    return stack;
  }
}
