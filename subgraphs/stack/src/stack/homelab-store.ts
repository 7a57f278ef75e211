import type { RecordModel } from "pocketbase";
import { setTimeout as sleep } from "node:timers/promises";
import { callPocketBase, isHomelabMoving, isNotFound, MOVING_RETRY_AFTER_SECONDS, type TenantNamespace } from "@kombify/homelab-store";
import type { Job } from "../job/job.type.js";
import type { Node } from "../node/node.type.js";
import type { NodeInput, Stack } from "./stack.type.js";

const POCKETBASE_ID = /^[a-z0-9]{15}$/;
/** PocketBase answers at most this many records a page. */
const MAX_PAGE = 1000;
/** Ids per `id = … || id = …` filter: keeps the request line well under proxies' limits. */
const IDS_PER_FILTER = 100;

export interface JobPatch {
  status?: Job["status"];
  progress?: number;
  message?: string;
  logs?: string[];
  startedAt?: Date;
  finishedAt?: Date;
}

/**
 * For a writer that outlives a request (the job runner): while the tenant moves to another instance its calls are
 * refused, so they wait, then go to the namespace where the tenant lives now.
 */
export interface FollowMoves {
  /** The tenant's namespace as the directory says now (refused UNAVAILABLE while the move runs). */
  resolve(): Promise<TenantNamespace>;
  /** How long a call waits for a move to end before it fails as any refused call would. */
  waitMs: number;
}

/** Reads and writes one tenant's stacks, nodes and jobs, always inside the namespace it is given. */
export class HomelabStore {
  constructor(
    private namespace: TenantNamespace,
    private readonly follow?: FollowMoves,
  ) {}

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + (this.follow?.waitMs ?? 0);
    for (;;) {
      try {
        return await callPocketBase(this.namespace.instanceUrl, fn);
      } catch (error) {
        // A refused call never reached a collection: repeating it where the tenant lives now cannot duplicate it.
        if (!this.follow || !isHomelabMoving(error) || Date.now() >= deadline) throw error;
        await sleep(MOVING_RETRY_AFTER_SECONDS * 200);
        this.namespace = await this.follow.resolve().catch((refused) => (isHomelabMoving(refused) ? this.namespace : Promise.reject(refused)));
      }
    }
  }

  private collection(name: keyof TenantNamespace["collections"]) {
    return this.namespace.pb.collection(this.namespace.collections[name]);
  }

  async stacks(): Promise<Stack[]> {
    const records = await this.call(() => this.collection("stacks").getFullList({ sort: "-created,id" }));
    return records.map(toStack);
  }

  async stack(id: string): Promise<Stack | null> {
    const record = await this.findOne("stacks", id);
    return record ? toStack(record) : null;
  }

  /** The stacks with these ids (unknown ids are absent), in one query per hundred ids. */
  async stacksByIds(ids: readonly string[]): Promise<Map<string, Stack>> {
    const records = await this.recordsWhereIn("stacks", "id", ids.filter((id) => POCKETBASE_ID.test(id)));
    return new Map(records.map((record) => [record.id, toStack(record)]));
  }

  async jobsByIds(ids: readonly string[]): Promise<Map<string, Job>> {
    const records = await this.recordsWhereIn("jobs", "id", ids.filter((id) => POCKETBASE_ID.test(id)));
    return new Map(records.map((record) => [record.id, toJob(record)]));
  }

  async nodesByIds(ids: readonly string[]): Promise<Map<string, Node>> {
    const records = await this.recordsWhereIn("nodes", "id", ids.filter((id) => POCKETBASE_ID.test(id)));
    return new Map(records.map((record) => [record.id, toNode(record)]));
  }

  /** Each stack's nodes by hostname, for many stacks in one query per hundred stacks. */
  async nodesOfStacks(stackIds: readonly string[]): Promise<Map<string, Node[]>> {
    const records = await this.recordsWhereIn("nodes", "stack", stackIds, "hostname");
    return groupBy(stackIds, records, (record) => record.stack, toNode);
  }

  /**
   * Each stack's `last` newest jobs, for many stacks in one query: the newest `last × stacks` jobs of them all,
   * and a query of its own only for a stack that may have been crowded out of that page by busier ones.
   */
  async jobsOfStacks(stackIds: readonly string[], last: number): Promise<Map<string, Job[]>> {
    const byStack = new Map<string, Job[]>(stackIds.map((id) => [id, []]));
    const perQuery = Math.max(1, Math.floor(MAX_PAGE / last));
    for (let start = 0; start < stackIds.length; start += perQuery) {
      const chunk = stackIds.slice(start, start + perQuery);
      const pageSize = last * chunk.length;
      const page = await this.call(() =>
        this.collection("jobs").getList(1, pageSize, { filter: this.anyOf("stack", chunk), sort: "-created,-id", skipTotal: true }),
      );
      for (const record of page.items) {
        const jobs = byStack.get(record.stack);
        if (jobs && jobs.length < last) jobs.push(toJob(record));
      }
      if (page.items.length < pageSize) continue;
      for (const stackId of chunk) {
        if (byStack.get(stackId)!.length < last) byStack.set(stackId, await this.jobsOf(stackId, last));
      }
    }
    return byStack;
  }

  private anyOf(field: string, values: readonly string[]): string {
    const params = Object.fromEntries(values.map((value, index) => [`v${index}`, value]));
    return this.namespace.pb.filter(values.map((_, index) => `${field} = {:v${index}}`).join(" || "), params);
  }

  private async recordsWhereIn(collection: keyof TenantNamespace["collections"], field: string, values: readonly string[], sort = "id"): Promise<RecordModel[]> {
    const unique = [...new Set(values)];
    const records: RecordModel[] = [];
    for (let start = 0; start < unique.length; start += IDS_PER_FILTER) {
      const chunk = unique.slice(start, start + IDS_PER_FILTER);
      records.push(...(await this.call(() => this.collection(collection).getFullList({ filter: this.anyOf(field, chunk), sort, batch: MAX_PAGE }))));
    }
    return records;
  }

  async countStacks(): Promise<number> {
    const page = await this.call(() => this.collection("stacks").getList(1, 1, { skipTotal: false }));
    return page.totalItems;
  }

  async stackNamed(name: string): Promise<Stack | null> {
    const pb = this.namespace.pb;
    const records = await this.call(() =>
      this.collection("stacks").getList(1, 1, { filter: pb.filter("name = {:name}", { name }) }),
    );
    return records.items[0] ? toStack(records.items[0]) : null;
  }

  /** Creates the stack with its nodes; if a node cannot be written the stack is removed again (cascade). */
  async createStack(input: { name: string; stackKitId: string; nodes: NodeInput[] }): Promise<Stack> {
    const record = await this.call(() =>
      this.collection("stacks").create({ name: input.name, stack_kit_id: input.stackKitId, status: "DRAFT" }),
    );
    try {
      for (const node of input.nodes) await this.addNode(record.id, node);
    } catch (error) {
      await this.call(() => this.collection("stacks").delete(record.id)).catch(() => {});
      throw error;
    }
    return toStack(record);
  }

  async deleteStack(id: string): Promise<boolean> {
    if (!POCKETBASE_ID.test(id)) return false;
    try {
      await this.call(() => this.collection("stacks").delete(id));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async addNode(stackId: string, node: NodeInput): Promise<Node> {
    const record = await this.call(() => this.collection("nodes").create({ stack: stackId, ...node, status: "REGISTERED" }));
    return toNode(record);
  }

  async removeNode(id: string): Promise<boolean> {
    if (!POCKETBASE_ID.test(id)) return false;
    try {
      await this.call(() => this.collection("nodes").delete(id));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async nodesOf(stackId: string): Promise<Node[]> {
    const pb = this.namespace.pb;
    const records = await this.call(() =>
      this.collection("nodes").getFullList({ filter: pb.filter("stack = {:stack}", { stack: stackId }), sort: "hostname" }),
    );
    return records.map(toNode);
  }

  async node(id: string): Promise<Node | null> {
    const record = await this.findOne("nodes", id);
    return record ? toNode(record) : null;
  }

  async jobsOf(stackId: string, last: number): Promise<Job[]> {
    const pb = this.namespace.pb;
    const page = await this.call(() =>
      this.collection("jobs").getList(1, last, { filter: pb.filter("stack = {:stack}", { stack: stackId }), sort: "-created,-id" }),
    );
    return page.items.map(toJob);
  }

  async createJob(id: string, stackId: string, kind: Job["kind"]): Promise<Job> {
    const record = await this.call(() =>
      this.collection("jobs").create({ id, stack: stackId, kind, status: "QUEUED", progress: 0, logs: [], message: "Queued" }),
    );
    return toJob(record);
  }

  async updateJob(id: string, patch: JobPatch): Promise<Job> {
    const record = await this.call(() =>
      this.collection("jobs").update(id, {
        ...(patch.status ? { status: patch.status } : {}),
        ...(patch.progress !== undefined ? { progress: patch.progress } : {}),
        ...(patch.message !== undefined ? { message: patch.message } : {}),
        ...(patch.logs ? { logs: patch.logs } : {}),
        ...(patch.startedAt ? { started_at: patch.startedAt.toISOString() } : {}),
        ...(patch.finishedAt ? { finished_at: patch.finishedAt.toISOString() } : {}),
      }),
    );
    return toJob(record);
  }

  async setStackStatus(id: string, status: Stack["status"]): Promise<void> {
    await this.call(() => this.collection("stacks").update(id, { status }));
  }

  async job(id: string): Promise<Job | null> {
    const record = await this.findOne("jobs", id);
    return record ? toJob(record) : null;
  }

  private async findOne(collection: keyof TenantNamespace["collections"], id: string): Promise<RecordModel | null> {
    if (!POCKETBASE_ID.test(id)) return null;
    try {
      return await this.call(() => this.collection(collection).getOne(id));
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }
}

function groupBy<T>(keys: readonly string[], records: RecordModel[], keyOf: (record: RecordModel) => string, map: (record: RecordModel) => T): Map<string, T[]> {
  const groups = new Map<string, T[]>(keys.map((key) => [key, []]));
  for (const record of records) groups.get(keyOf(record))?.push(map(record));
  return groups;
}

const dateOrNull = (value: unknown): Date | null => (typeof value === "string" && value ? new Date(value) : null);

function toStack(record: RecordModel): Stack {
  return {
    id: record.id,
    name: record.name,
    status: record.status,
    stackKitId: record.stack_kit_id,
    createdAt: new Date(record.created),
  };
}

function toNode(record: RecordModel): Node {
  return { id: record.id, hostname: record.hostname, address: record.address, role: record.role, status: record.status };
}

export function toJob(record: RecordModel): Job {
  return {
    id: record.id,
    stackId: record.stack,
    kind: record.kind,
    status: record.status,
    progress: Number(record.progress ?? 0),
    message: record.message || null,
    allLogs: Array.isArray(record.logs) ? record.logs : [],
    createdAt: new Date(record.created),
    startedAt: dateOrNull(record.started_at),
    finishedAt: dateOrNull(record.finished_at),
    expandedStack: record.expand?.stack ? toStack(record.expand.stack as RecordModel) : undefined,
  };
}
