import { errors } from "@kombify/service-core/errors";
import { recordAudit } from "@kombify/service-core/audit";
import { requireTenant, type RequestContext } from "@kombify/service-core/auth";
import type { Db } from "@kombify/service-core/database";
import type { HomelabStores } from "../stack/homelab-stores.js";
import type { Stack } from "../stack/stack.type.js";
import type { JobQueue } from "./job-queue.js";
import { newRecordId } from "./job-queue.js";
import type { Job } from "./job.type.js";

const FINISHED = new Set(["SUCCEEDED", "FAILED", "CANCELLED"]);

/** deployStack and cancelJob: jobs enter the queue here and the runner takes them from there. */
export class JobService {
  constructor(
    private readonly db: Db,
    private readonly stores: HomelabStores,
    private readonly queue: JobQueue,
  ) {}

  async deploy(context: RequestContext, stackId: string): Promise<Job> {
    const tenant = requireTenant(context);
    const store = await this.stores.of(context);
    const stack = await store.stack(stackId);
    if (!stack) throw errors.notFound("Stack", stackId);
    const jobId = newRecordId();
    let job: Job | undefined;
    await this.queue.enqueue({ jobId, tenantId: tenant.id, stackId, kind: "DEPLOY", stackStatusBefore: stack.status }, async () => {
      job = await store.createJob(jobId, stackId, "DEPLOY");
      await store.setStackStatus(stackId, "DEPLOYING");
    });
    await recordAudit(this.db, context, { action: "stack.deploy", target: `stack:${stackId}`, details: { jobId } });
    return job!;
  }

  /** A queued job is cancelled at once; a running one is marked and the runner stops before its next step. */
  async cancel(context: RequestContext, jobId: string): Promise<Job> {
    const store = await this.stores.of(context);
    const job = await store.job(jobId);
    if (!job) throw errors.notFound("Job", jobId);
    if (FINISHED.has(job.status)) throw errors.conflict(`Job ${jobId} has already finished (${job.status}).`);
    const queued = await this.queue.get(jobId);
    const cancelled = await store.updateJob(jobId, { status: "CANCELLED", message: "Cancelled", finishedAt: new Date() });
    if (queued && (await this.queue.removeUnclaimed(jobId))) await store.setStackStatus(job.stackId, queued.stackStatusBefore as Stack["status"]);
    await recordAudit(this.db, context, { action: "job.cancel", target: `job:${jobId}` });
    return cancelled;
  }
}
