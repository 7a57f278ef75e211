import { randomBytes } from "node:crypto";
import { and, eq, isNotNull, sql } from "drizzle-orm";
import { errors } from "@kombify/service-core/errors";
import { isUniqueViolation, type Db } from "@kombify/service-core/database";
import { jobQueue, type JobQueueRow } from "../db/schema.js";

export const JOB_QUEUED_CHANNEL = "kombify_job_queued";
const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

/** A PocketBase-compatible record id (15 of [a-z0-9]), chosen by us so the queue row can exist first. */
export function newRecordId(): string {
  return Array.from(randomBytes(15), (byte) => ALPHABET[byte % ALPHABET.length]).join("");
}

/** Active jobs in PostgreSQL: at most one per stack, claimed by runners without double delivery. */
export class JobQueue {
  constructor(private readonly db: Db) {}

  /**
   * Reserves the stack for a new job and runs `write` (the PocketBase write) inside the same transaction,
   * so a failed write leaves no reservation and a second job for the stack is a CONFLICT.
   */
  async enqueue(entry: Omit<JobQueueRow, "enqueuedAt" | "claimedBy" | "claimedAt">, write: () => Promise<void>): Promise<void> {
    await this.db.transaction(async (tx) => {
      try {
        await tx.insert(jobQueue).values(entry);
      } catch (error) {
        if (isUniqueViolation(error, "job_queue_one_per_stack")) throw errors.conflict("A job is already queued or running for this stack; wait for it or cancel it.");
        throw error;
      }
      await write();
      await tx.execute(sql`select pg_notify(${JOB_QUEUED_CHANNEL}, ${entry.jobId})`);
    });
  }

  /** Claims the oldest unclaimed job for `runnerId`, or none. */
  async claimNext(runnerId: string): Promise<JobQueueRow | null> {
    const rows = await this.db.execute<{ job_id: string }>(sql`
      update ${jobQueue} set claimed_by = ${runnerId}, claimed_at = now()
      where job_id = (select job_id from ${jobQueue} where claimed_by is null order by enqueued_at for update skip locked limit 1)
      returning job_id`);
    const jobId = rows[0]?.job_id;
    return jobId ? this.get(jobId) : null;
  }

  async get(jobId: string): Promise<JobQueueRow | null> {
    const [row] = await this.db.select().from(jobQueue).where(eq(jobQueue.jobId, jobId));
    return row ?? null;
  }

  async remove(jobId: string): Promise<void> {
    await this.db.delete(jobQueue).where(eq(jobQueue.jobId, jobId));
  }

  /** Unclaimed removal, for cancelling a job no runner has started: false if a runner got it first. */
  async removeUnclaimed(jobId: string): Promise<boolean> {
    const removed = await this.db
      .delete(jobQueue)
      .where(and(eq(jobQueue.jobId, jobId), sql`${jobQueue.claimedBy} is null`))
      .returning();
    return removed.length > 0;
  }

  async claimed(): Promise<JobQueueRow[]> {
    return this.db.select().from(jobQueue).where(isNotNull(jobQueue.claimedBy));
  }
}
