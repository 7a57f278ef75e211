import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import postgres from "postgres";
import { DRAIN_GRACE_MS } from "@kombify/service-core/server";
import { errorMessage } from "@kombify/service-core/errors";
import type { Db } from "@kombify/service-core/database";
import type { Logger } from "@kombify/service-core/logging";
import type { NamespaceResolver, TenantNamespace } from "@kombify/homelab-store";
import type { StackKitCatalog } from "@kombify/stackkit-catalog";
import { tenantById } from "@kombify/subgraph-tenant/tenant-directory";
import type { JobQueueRow } from "../db/schema.js";
import type { JobEvents } from "../job/job-events.js";
import { JOB_QUEUED_CHANNEL, type JobQueue } from "../job/job-queue.js";
import { HomelabStore } from "../stack/homelab-store.js";
import type { Stack } from "../stack/stack.type.js";
import type { SimulationLinks } from "../simulation/simulation-links.js";
import { LogFlusher } from "./log-flusher.js";
import type { StepExecutor } from "./step-executor.js";

export interface JobRunnerOptions {
  databaseUrl: string;
  /** Jobs run at once by this runner. @default 4 */
  concurrency?: number;
  /** How often to look for work and for jobs of dead runners, besides notifications. @default 2000 */
  pollIntervalMs?: number;
}

/** Why a step was interrupted when the job was cancelled while it ran. */
class JobCancelled extends Error {
  constructor() {
    super("The job was cancelled.");
  }
}

/** How long a running job's writes wait for its tenant's move to another instance to end. */
const MOVE_WAIT_MS = 120_000;

/** The advisory-lock key of a runner: its id, hashed by PostgreSQL. */
const lockKey = (runnerId: string) => `job-runner:${runnerId}`;

/**
 * Executes queued jobs: the kit's steps on each of the stack's nodes, in order, writing status, progress and
 * log lines to the job in PocketBase (which is what subscribers see). Each runner holds a session advisory lock
 * named after itself; a claim whose runner no longer holds its lock belongs to a dead runner, and that job is
 * failed with a message rather than left RUNNING.
 */
export class JobRunner {
  readonly id = `runner-${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
  private readonly lockSql: postgres.Sql;
  private readonly inFlight = new Map<string, AbortController>();
  private timer: NodeJS.Timeout | undefined;
  private draining = false;
  private stopped = false;
  private listener: { unlisten(): Promise<void> } | undefined;

  constructor(
    private readonly db: Db,
    private readonly queue: JobQueue,
    private readonly namespaces: NamespaceResolver,
    private readonly stackkits: StackKitCatalog,
    private readonly executor: StepExecutor,
    private readonly simulations: SimulationLinks,
    /** Where a cancel shows up, whoever wrote it (the API, another replica, PocketBase's admin UI). */
    private readonly jobEvents: JobEvents,
    private readonly log: Logger,
    private readonly options: JobRunnerOptions,
  ) {
    this.lockSql = postgres(options.databaseUrl, { max: 1, onnotice: () => {} });
  }

  async start(): Promise<void> {
    await this.lockSql`select pg_advisory_lock(hashtext(${lockKey(this.id)}))`;
    await this.failJobsOfDeadRunners();
    this.listener = await this.lockSql.listen(JOB_QUEUED_CHANNEL, () => void this.drain());
    this.timer = setInterval(() => {
      void this.failJobsOfDeadRunners().then(() => this.drain());
    }, this.options.pollIntervalMs ?? 2000);
    void this.drain();
    this.log.info({ runner: this.id }, "job runner started");
  }

  /**
   * Stops taking jobs and lets those in flight finish for up to `graceMs` (a rolling restart should not fail
   * deploys); whatever is still running then is failed with a message, never left RUNNING.
   */
  async stop(graceMs = DRAIN_GRACE_MS): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    const waitForInFlight = async (ms: number) => {
      const deadline = Date.now() + ms;
      while (this.inFlight.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    };
    await waitForInFlight(graceMs);
    for (const controller of this.inFlight.values()) controller.abort(new Error("The job runner was stopped while this job ran; deploy again."));
    await waitForInFlight(2000);
    await this.listener?.unlisten().catch(() => {});
    await this.lockSql.end({ timeout: 5 });
  }

  private async drain(): Promise<void> {
    if (this.draining || this.stopped) return;
    this.draining = true;
    try {
      while (!this.stopped && this.inFlight.size < (this.options.concurrency ?? 4)) {
        const row = await this.queue.claimNext(this.id);
        if (!row) break;
        const controller = new AbortController();
        this.inFlight.set(row.jobId, controller);
        void this.execute(row, controller.signal)
          .catch((error) => this.log.error({ err: error, jobId: row.jobId }, "job runner failed to record a job's end"))
          .finally(() => {
            this.inFlight.delete(row.jobId);
            void this.drain();
          });
      }
    } catch (error) {
      this.log.error({ err: error }, "could not claim jobs");
    } finally {
      this.draining = false;
    }
  }

  private async namespaceOf(row: JobQueueRow): Promise<TenantNamespace | null> {
    const entry = await tenantById(this.db, row.tenantId);
    return entry ? this.namespaces.resolve(entry.tenant) : null;
  }

  private async execute(row: JobQueueRow, signal: AbortSignal): Promise<void> {
    const namespace = await this.namespaceOf(row);
    if (!namespace) return this.queue.remove(row.jobId);
    // A deploy outlives a move of its tenant to another instance: its writes wait for the move, then follow it.
    const store = new HomelabStore(namespace, { resolve: () => this.namespaces.resolve(namespace.tenant), waitMs: MOVE_WAIT_MS });
    // A cancel interrupts the step under way too (a long docker exec), not only the steps after it.
    const running = new AbortController();
    const stopWatching = await this.jobEvents.watch(namespace, { jobId: row.jobId }, (changed) => {
      if (changed.status === "CANCELLED") running.abort(new JobCancelled());
    });
    // Read after watching, so a cancel written before the watch began is seen here.
    const job = await store.job(row.jobId).catch((error) => {
      stopWatching();
      throw error;
    });
    if (!job || job.status === "CANCELLED") {
      stopWatching();
      if (job) await store.setStackStatus(row.stackId, row.stackStatusBefore as Stack["status"]);
      return this.queue.remove(row.jobId);
    }
    const log = this.log.child({ jobId: row.jobId, stackId: row.stackId });
    const logs = [...job.allLogs];
    const stopRunning = () => running.abort(signal.reason);
    signal.addEventListener("abort", stopRunning, { once: true });
    const cancelled = async () => {
      await store.setStackStatus(row.stackId, row.stackStatusBefore as Stack["status"]);
      log.info("job cancelled while running");
    };
    try {
      const stack = await store.stack(row.stackId);
      if (!stack) throw new Error("The stack was deleted.");
      const kit = this.stackkits.find(stack.stackKitId);
      if (!kit) throw new Error(`StackKit ${stack.stackKitId} is no longer in the catalog.`);
      const nodes = await store.nodesOf(stack.id);
      if (nodes.length === 0) throw new Error("The stack has no nodes.");
      const simulationId = await this.simulations.simulationOf(row.tenantId, stack.id);
      if (simulationId === "deleted") throw new Error("The simulation this stack deploys onto was deleted; create a simulation and a stack on it again.");
      await store.updateJob(row.jobId, { status: "RUNNING", startedAt: new Date(), message: `Deploying ${kit.name} ${kit.version}` });
      const total = kit.steps.length * nodes.length;
      let done = 0;
      for (const step of kit.steps) {
        for (const node of nodes) {
          if (running.signal.reason instanceof JobCancelled) return await cancelled();
          const flusher = new LogFlusher(
            async () => void (await store.updateJob(row.jobId, { logs: [...logs] })),
            (error) => log.warn({ err: error }, "could not write a step's output yet"),
          );
          try {
            await this.executor.run({ tenantId: row.tenantId, node, simulationId }, step, (line) => {
              logs.push(line);
              flusher.changed();
            }, running.signal);
          } finally {
            await flusher.settle();
          }
          done += 1;
          await store.updateJob(row.jobId, { progress: done / total, logs, message: `${step.name} on ${node.hostname}` });
        }
      }
      await store.updateJob(row.jobId, { status: "SUCCEEDED", progress: 1, message: `Deployed ${kit.name} ${kit.version}`, finishedAt: new Date(), logs });
      await store.setStackStatus(stack.id, "RUNNING");
      log.info("job succeeded");
    } catch (error) {
      if (running.signal.reason instanceof JobCancelled) return await cancelled();
      const message = errorMessage(error);
      logs.push(`error: ${message}`);
      await store.updateJob(row.jobId, { status: "FAILED", message, finishedAt: new Date(), logs });
      await store.setStackStatus(row.stackId, "FAILED").catch(() => {});
      log.warn({ reason: message }, "job failed");
    } finally {
      stopWatching();
      signal.removeEventListener("abort", stopRunning);
      await this.queue.remove(row.jobId);
    }
  }

  /** Jobs claimed by a runner whose lock is free (its process is gone) are failed with a message. */
  private async failJobsOfDeadRunners(): Promise<void> {
    for (const row of await this.queue.claimed()) {
      if (row.claimedBy === this.id) continue;
      const [{ dead } = { dead: false }] = await this.lockSql<{ dead: boolean }[]>`select pg_try_advisory_lock(hashtext(${lockKey(row.claimedBy!)})) as dead`;
      if (!dead) continue;
      await this.lockSql`select pg_advisory_unlock(hashtext(${lockKey(row.claimedBy!)}))`;
      const namespace = await this.namespaceOf(row);
      if (namespace) {
        const store = new HomelabStore(namespace);
        const message = "The job runner stopped while this job ran; deploy again.";
        const job = await store.job(row.jobId);
        if (job && job.status !== "SUCCEEDED" && job.status !== "CANCELLED") {
          await store.updateJob(row.jobId, { status: "FAILED", message, finishedAt: new Date(), logs: [...job.allLogs, `error: ${message}`] });
          await store.setStackStatus(row.stackId, "FAILED");
        }
      }
      await this.queue.remove(row.jobId);
      this.log.warn({ jobId: row.jobId, deadRunner: row.claimedBy }, "failed a job left by a runner that is gone");
    }
  }
}
