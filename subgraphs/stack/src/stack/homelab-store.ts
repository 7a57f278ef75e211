import type { RecordModel } from "pocketbase";
import { callPocketBase, isNotFound, type TenantNamespace } from "@kombify/service-core";
import type { Job } from "../job/job.type.js";
import type { Node } from "../node/node.type.js";
import type { NodeInput, Stack } from "./stack.type.js";

const POCKETBASE_ID = /^[a-z0-9]{15}$/;

export interface JobPatch {
  status?: Job["status"];
  progress?: number;
  message?: string;
  logs?: string[];
  startedAt?: Date;
  finishedAt?: Date;
}

/** Reads and writes one tenant's stacks, nodes and jobs, always inside the namespace it is given. */
export class HomelabStore {
  constructor(private readonly namespace: TenantNamespace) {}

  private call<T>(fn: () => Promise<T>): Promise<T> {
    return callPocketBase(this.namespace.instanceUrl, fn);
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
