import { batchLoader } from "@kombify/service-core/graphql";
import type { Job } from "../job/job.type.js";
import type { Node } from "../node/node.type.js";
import type { HomelabStore } from "./homelab-store.js";
import type { Stack } from "./stack.type.js";

/**
 * One PocketBase query per list of parents, not one per field: what execution asks for in one tick (every
 * stack's nodes, every job's stack, a thousand aliases of the tenant's stacks) is gathered and read at once.
 * Batching only, no memo: a subscription's context lives for many events, and each must read what is there now.
 */
export class HomelabLoaders {
  constructor(private readonly store: HomelabStore) {}

  private readonly stacks = batchLoader<string, Stack | null>(async (ids) => {
    const found = await this.store.stacksByIds(ids);
    return ids.map((id) => found.get(id) ?? null);
  });

  private readonly jobs = batchLoader<string, Job | null>(async (ids) => {
    const found = await this.store.jobsByIds(ids);
    return ids.map((id) => found.get(id) ?? null);
  });

  private readonly nodes = batchLoader<string, Node | null>(async (ids) => {
    const found = await this.store.nodesByIds(ids);
    return ids.map((id) => found.get(id) ?? null);
  });

  private readonly allStacks = batchLoader<"all", Stack[]>(async (keys) => {
    const stacks = await this.store.stacks();
    return keys.map(() => stacks);
  });

  private readonly nodesOfStack = batchLoader<string, Node[]>(async (stackIds) => {
    const found = await this.store.nodesOfStacks(stackIds);
    return stackIds.map((id) => found.get(id) ?? []);
  });

  /** Keyed `last:stackId`: stacks asked with the same `last` share a query. */
  private readonly jobsOfStack = batchLoader<string, Job[]>(async (keys) => {
    const byLast = new Map<number, string[]>();
    for (const key of keys) {
      const [last, stackId] = splitKey(key);
      byLast.set(last, [...(byLast.get(last) ?? []), stackId]);
    }
    const found = new Map<string, Job[]>();
    for (const [last, stackIds] of byLast) {
      for (const [stackId, jobs] of await this.store.jobsOfStacks([...new Set(stackIds)], last)) found.set(`${last}:${stackId}`, jobs);
    }
    return keys.map((key) => found.get(key) ?? []);
  });

  stack = (id: string) => this.stacks.load(id);
  job = (id: string) => this.jobs.load(id);
  node = (id: string) => this.nodes.load(id);
  stacksOfTenant = () => this.allStacks.load("all");
  nodesOf = (stackId: string) => this.nodesOfStack.load(stackId);
  jobsOf = (stackId: string, last: number) => this.jobsOfStack.load(`${last}:${stackId}`);
}

function splitKey(key: string): [number, string] {
  const colon = key.indexOf(":");
  return [Number(key.slice(0, colon)), key.slice(colon + 1)];
}
