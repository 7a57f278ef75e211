import type { DocumentNode, GraphQLFormattedError } from "graphql";
import { ErrorCode } from "@kombify/service-core/errors";
import type { Caller } from "@kombify/service-core/auth";
import { operationHash, TENANT_CONTEXT_EXTENSION, type TenantContextSigner } from "@kombify/service-core/tenant-context";
import type { GatewayContext } from "../../gateway-context.js";
import { signTenantContext } from "../../federation/context-signing.js";
import { fetchAudience } from "../../execution/federated-executor.js";
import { runPlan, type PlanFetcher } from "../../execution/plan-executor.js";
import { parseAnswer, type SubgraphClient } from "../../execution/subgraph-client.js";
import { EventFetchCache } from "./event-fetch-cache.js";
import { PlanningBudget } from "../limits/planning-budget.js";
import { quotaAudience } from "../limits/quota-audience.js";
import { sharingAudience } from "./sharing-audience.js";
import { EVENT_SOURCE, type SubscriptionPlan, type SubscriptionPlanner } from "./subscription-planner.js";
import type { UpstreamResult, UpstreamSource } from "./upstream-source.js";

export type SubscriptionResult = UpstreamResult;

/**
 * One subscriber of a group, as the hub sees it: where each event goes, already serialised. The transport
 * frames it (see SocketSubscription) and bounds what it holds for a consumer that does not read.
 */
export interface GroupSubscriber {
  /** One event: its result as UTF-8 JSON, serialised once for the whole group (a graphql-ws `next` payload). */
  send(payload: Buffer): void;
  /** The group has ended: complete the stream after what was sent. */
  end(): void;
}

interface Group {
  plan: SubscriptionPlan;
  /** Whose context signs the fetches for other subgraphs' fields: all members share tenant, plan and roles. */
  context: GatewayContext;
  variables: Record<string, unknown>;
  subscribers: Set<GroupSubscriber>;
  stopUpstream: () => void;
  /** Events are resolved one after another, so every subscriber sees them in upstream order. */
  chain: Promise<void>;
}

function toFormattedError(error: { message: string; path?: readonly (string | number)[]; extensions?: Record<string, unknown> }): GraphQLFormattedError {
  return { message: error.message, ...(error.path ? { path: error.path } : {}), ...(error.extensions ? { extensions: error.extensions } : {}) };
}

/**
 * Federated subscriptions. Subscribers of one audience to one operation with the same variables share one
 * upstream subscription to the owning subgraph; for each upstream event, the fields owned by other subgraphs
 * are resolved once (the plan's `rest` run as any query's plan is, with the event standing in for the primary
 * fetch; answers a subgraph marks fresh are reused, see EventFetchCache), the shaped result is serialised
 * once, and that JSON is handed to every subscriber, which frames and writes it (bounded, so one that stops
 * reading only loses its own stream). The last subscriber to leave closes the upstream subscription.
 */
export class SubscriptionHub {
  private readonly groups = new Map<string, Group>();
  private subscriberCount = 0;
  /** Events received from upstream, and their payloads handed to subscribers (one per subscriber per event). */
  private upstreamEvents = 0;
  private deliveredEvents = 0;
  private readonly fetches = new EventFetchCache();
  private readonly planningBudget = new PlanningBudget();
  private planningTail: Promise<unknown> = Promise.resolve();
  constructor(
    private readonly planner: SubscriptionPlanner,
    private readonly upstream: UpstreamSource,
    /** The subgraphs, as queries reach them: events' fields of other subgraphs are fetched through them (and the cache). */
    private readonly clients: ReadonlyMap<string, SubgraphClient>,
    private readonly signer: TenantContextSigner,
    private readonly formatError: (error: GraphQLFormattedError) => GraphQLFormattedError,
  ) {}

  get stats() {
    return {
      subscribers: this.subscriberCount,
      groups: this.groups.size,
      upstream: this.upstream.count,
      eventFetches: this.fetches.stats,
      events: { received: this.upstreamEvents, delivered: this.deliveredEvents },
    };
  }

  /**
   * A tenant's plan or identity changed (the tenant directory said so): every group of that tenant takes the
   * caller `current` gives (the directory's answer now), so the next event's fields of other subgraphs are
   * fetched for the new plan, not the one its subscribers joined with. The group keeps its upstream subscription
   * and its key; new subscribers on the new plan open a group of their own.
   */
  async tenantChanged(tenantId: string, current: (caller: Caller) => Promise<Caller>): Promise<void> {
    for (const group of this.groups.values()) {
      const caller = group.context.caller;
      if (caller.kind !== "user" || caller.tenant?.id !== tenantId) continue;
      const now = await current(caller);
      if (JSON.stringify(now) === JSON.stringify(caller)) continue;
      group.context.caller = now;
      group.context.signedContexts?.clear();
    }
  }

  /**
   * Joins (or opens) the caller's group. `createSubscriber` makes the subscriber as it joins, with the `leave`
   * it must call once when it goes away (unsubscribed, disconnected, cut off), and gets nothing before.
   */
  async subscribe<S extends GroupSubscriber>(
    document: DocumentNode,
    operationName: string | undefined,
    variables: Record<string, unknown>,
    context: GatewayContext,
    createSubscriber: (leave: () => void) => S,
  ): Promise<S> {
    const plan = this.planner.kept(document, operationName) ?? (await this.planAnew(document, operationName, context));
    const key = JSON.stringify([sharingAudience(context.caller), operationName ?? null, plan.text, variables]);
    const group = this.groups.get(key) ?? (await this.open(key, plan, variables, context));
    const subscriber: S = createSubscriber(() => this.leave(key, group, subscriber));
    group.subscribers.add(subscriber);
    this.subscriberCount += 1;
    return subscriber;
  }

  /**
   * A new plan, taken from the caller's budget and made in its turn: one at a time, and after each a pause three
   * times as long as it took, so a burst of new documents takes at most a quarter of the event loop and other
   * requests find it free most of the time, instead of waiting behind all of them.
   */
  private planAnew(document: DocumentNode, operationName: string | undefined, context: GatewayContext): Promise<SubscriptionPlan> {
    this.planningBudget.take(quotaAudience(context.caller));
    let took = 0;
    const turn = this.planningTail.then(() => {
      const started = performance.now();
      try {
        return this.planner.plan(document, operationName);
      } finally {
        took = performance.now() - started;
      }
    });
    this.planningTail = turn.then(
      () => delay(took * 3),
      () => delay(took * 3),
    );
    return turn;
  }

  private async open(key: string, plan: SubscriptionPlan, variables: Record<string, unknown>, context: GatewayContext): Promise<Group> {
    const signed = await signTenantContext(this.signer, context, plan.primary.serviceName, operationHash(plan.primary.operation));
    const existing = this.groups.get(key);
    if (existing) return existing;
    // The group's own context, not the first subscriber's (which would keep that subscriber's socket alive):
    // nothing below may close over `context`.
    const { caller, requestId, log } = context;
    const groupContext: GatewayContext = { caller, requestId, log, signedContexts: new Map() };
    const group: Group = { plan, context: groupContext, variables, subscribers: new Set(), stopUpstream: () => {}, chain: Promise.resolve() };
    this.groups.set(key, group);
    // Events, the end and a failure all go through the group's chain, so each comes after the events before it.
    const enqueue = (step: () => void | Promise<void>) => {
      group.chain = group.chain.then(step).catch((error) => log.error({ err: error }, "could not resolve a subscription event"));
    };
    group.stopUpstream = this.upstream.subscribe(
      plan.primary.serviceName,
      {
        query: plan.primary.operation,
        variables: plan.primaryVariables(variables),
        extensions: { [TENANT_CONTEXT_EXTENSION]: signed, requestId },
      },
      {
        next: (event) => enqueue(() => this.deliver(group, event)),
        error: (error) => {
          log.warn({ err: error, subgraph: plan.primary.serviceName }, "upstream subscription failed");
          enqueue(() =>
            this.endGroup(key, group, {
              errors: [{ message: `The ${plan.primary.serviceName} service stopped this subscription; subscribe again.`, extensions: { code: ErrorCode.UNAVAILABLE } }],
            }),
          );
        },
        complete: () => enqueue(() => this.endGroup(key, group)),
      },
    );
    return group;
  }

  private async deliver(group: Group, event: SubscriptionResult): Promise<void> {
    this.upstreamEvents += 1;
    if (group.subscribers.size === 0) return;
    const result = event.data ? await this.resolve(group, event) : { errors: this.formatAndLog(group, event.errors ?? []) };
    // Once per event, whatever the group's size; per subscriber only the framing remains.
    const payload = Buffer.from(JSON.stringify(result));
    this.deliveredEvents += group.subscribers.size;
    for (const subscriber of group.subscribers) subscriber.send(payload);
  }

  /** The event as the primary fetch's answer, then the plan's fetches for other subgraphs' fields. */
  private async resolve(group: Group, event: SubscriptionResult): Promise<SubscriptionResult> {
    const { context } = group;
    const cacheAudience = sharingAudience(context.caller);
    const inflightAudience = fetchAudience(context.caller);
    const fetcher: PlanFetcher = async (fetch, body, telemetry) => {
      const subgraph = fetch.node.serviceName;
      if (subgraph === EVENT_SOURCE) return { response: { data: event.data as Record<string, unknown> | null | undefined } };
      const client = this.clients.get(subgraph);
      if (!client) throw new Error(`Couldn't find service with name "${subgraph}"`);
      const answer = await this.fetches.fetch(subgraph, body, cacheAudience, () =>
        client.send({
          body,
          audience: fetch.shareable ? inflightAudience : null,
          requestId: context.requestId,
          signedContext: () => signTenantContext(this.signer, context, subgraph, fetch.hash),
          telemetry,
        }),
      );
      return { response: parseAnswer(subgraph, answer.text), cacheControl: answer.cacheControl };
    };
    const result = await runPlan({ prepared: group.plan.prepared, variables: group.variables, context, supergraphSchema: this.planner.supergraphSchema, fetcher });
    const errors = this.formatAndLog(group, [...(event.errors ?? []), ...(result.errors ?? []).map(toFormattedError)]);
    return { data: result.data as Record<string, unknown> | null | undefined, ...(errors.length > 0 ? { errors } : {}) };
  }

  /** The errors as clients get them; an internal one is logged once, with what the subgraph said. */
  private formatAndLog(group: Group, raw: readonly GraphQLFormattedError[]): GraphQLFormattedError[] {
    const errors = raw.map(this.formatError);
    errors.forEach((error, index) => {
      if (error.extensions?.code === ErrorCode.INTERNAL) group.context.log.error({ upstream: raw[index] }, "unexpected error in a subscription event");
    });
    return errors;
  }

  private leave(key: string, group: Group, subscriber: GroupSubscriber): void {
    if (!group.subscribers.delete(subscriber)) return;
    this.subscriberCount -= 1;
    if (group.subscribers.size === 0) this.endGroup(key, group);
  }

  private endGroup(key: string, group: Group, last?: SubscriptionResult): void {
    if (this.groups.get(key) === group) this.groups.delete(key);
    group.stopUpstream();
    const payload = last ? Buffer.from(JSON.stringify(last)) : undefined;
    for (const subscriber of [...group.subscribers]) {
      if (payload) subscriber.send(payload);
      subscriber.end();
    }
  }
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
