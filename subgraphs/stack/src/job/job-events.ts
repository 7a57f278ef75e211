import { errors } from "@kombify/service-core/errors";
import { PushQueue } from "@kombify/service-core/streams";
import { requireTenant, type RequestContext } from "@kombify/service-core/auth";
import type { NamespaceResolver, RealtimeFanout, TenantNamespace } from "@kombify/homelab-store";
import { toJob } from "../stack/homelab-store.js";
import type { Job } from "./job.type.js";

export interface JobFilter {
  jobId?: string | null;
  stackId?: string | null;
}

/**
 * jobUpdated's source: the tenant's jobs_<slug> collection as PocketBase streams it, so a change written by
 * any replica, the runner or PocketBase's admin UI reaches subscribers. Only the verified tenant's namespace
 * is listened to; the job/stack filter is applied here.
 */
export class JobEvents {
  constructor(
    private readonly namespaces: NamespaceResolver,
    private readonly fanout: RealtimeFanout,
    /** Events held for a subscriber that is not reading before it is cut off. @default 1000 */
    private readonly bufferPerSubscriber = 1000,
  ) {}

  async subscribe(context: RequestContext, filter: JobFilter): Promise<AsyncIterableIterator<Job>> {
    const namespace = await this.namespaces.resolve(requireTenant(context));
    let stopListening: () => void = () => {};
    const queue = new PushQueue<Job>(
      () => stopListening(),
      this.bufferPerSubscriber,
      () => errors.unavailable("This subscriber fell too far behind the job updates; subscribe again."),
    );
    stopListening = await this.watch(namespace, filter, (job) => queue.push(job));
    if (queue.isClosed) stopListening();
    return queue;
  }

  /**
   * Calls `onJob` with every change of a job in `namespace` that passes `filter` (subscribers, and the runner
   * watching for a cancel), until the returned function is called. All share one PocketBase stream per collection.
   */
  watch(namespace: TenantNamespace, filter: JobFilter, onJob: (job: Job) => void): Promise<() => void> {
    return this.fanout.listen(
      namespace.pb,
      namespace.instanceUrl,
      namespace.collections.jobs,
      (event) => {
        if (event.action === "delete") return;
        const job = toJob(event.record);
        if (filter.jobId && job.id !== filter.jobId) return;
        if (filter.stackId && job.stackId !== filter.stackId) return;
        onJob(job);
      },
      "stack",
    );
  }
}
