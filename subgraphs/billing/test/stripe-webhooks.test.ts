import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { billingSubgraph } from "@kombify/subgraph-billing";
import { createTestTenant, startTestSubgraph, type TestSubgraph } from "@kombify/testkit";
import {
  checkoutCompleted,
  deliver,
  envelope,
  invoiceEvent,
  nowSeconds,
  PRICES,
  signed,
  subscriptionEvent,
  WEBHOOK_SECRET,
  type EventEnvelope,
  type StripeStatus,
  type SubscriptionFixture,
} from "@kombify/testkit";

const GRACE_DAYS = 1;
const DAY = 86_400;

/** A small seeded generator, so a failing stream can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface SubscriptionModel {
  fixture: SubscriptionFixture;
  tier: "PRO" | "ENTERPRISE";
  status: StripeStatus | null;
  lastCreated: number;
  invoice: { id: string; created: number; paid: boolean } | null;
}

/**
 * One tenant's life in `count` Stripe events, the same for the same seed whatever `prefix` names its ids: a
 * checkout, then renewals that fail and recover, plan changes, pauses, cancellations and new subscriptions.
 * Returns the events in Stripe's order and what that order must leave: the tenant's chosen subscription and plan.
 */
function tenantLife(seed: number, prefix: string, tenantId: string, base: number, count: number) {
  const next = random(seed);
  const pick = <T>(options: T[]): T => options[Math.floor(next() * options.length)]!;
  const customer = `cus_${prefix}${seed}`;
  const events: EventEnvelope[] = [];
  const subscriptions: SubscriptionModel[] = [];
  let t = base;
  let invoices = 0;
  const full = () => events.length >= count;
  const push = (event: EventEnvelope) => {
    if (full()) return false;
    events.push({ ...event, id: `evt_${prefix}_${seed}_${events.length}` });
    return true;
  };
  const subscriptionChange = (model: SubscriptionModel, change: Partial<SubscriptionFixture>, created: number, type?: string) => {
    const fixture = { ...model.fixture, ...change };
    if (!push(subscriptionEvent(fixture, created, type))) return;
    model.fixture = fixture;
    model.status = fixture.status;
    model.lastCreated = created;
    model.tier = fixture.price === PRICES.PRO ? "PRO" : "ENTERPRISE";
  };
  const invoice = (model: SubscriptionModel, paid: boolean, id: string, created: number, at: number) => {
    if (!push(invoiceEvent(paid, { id, created, subscription: model.fixture.id, customer, tenantId }, at))) return;
    if (!model.invoice || model.invoice.created < created || (model.invoice.id === id && paid)) model.invoice = { id, created, paid };
  };

  while (!full()) {
    t += 1 + Math.floor(next() * 3);
    const current = subscriptions.at(-1);
    const status = current?.status ?? "canceled";
    if (!current || status === "canceled") {
      const tier = pick(["PRO", "ENTERPRISE"] as const);
      const model: SubscriptionModel = {
        fixture: { id: `sub_${prefix}${seed}_${subscriptions.length + 1}`, customer, tenantId, status: "incomplete", price: PRICES[tier] },
        tier,
        status: null,
        lastCreated: 0,
        invoice: null,
      };
      subscriptions.push(model);
      push(checkoutCompleted(t, tenantId, customer, model.fixture.id));
      subscriptionChange(model, { status: "incomplete", periodStart: t }, t, "customer.subscription.created");
      invoice(model, true, `in_${prefix}${seed}_${++invoices}`, t, t);
      // Same second as `incomplete`: the later lifecycle status wins the tie.
      subscriptionChange(model, { status: "active" }, t);
      continue;
    }
    const action = pick(
      status === "active" ? ["cancel-at-end", "change-plan", "renewal-fails", "renewal-fails", "pause", "cancel"]
      : status === "past_due" ? ["recover", "retry-fails", "unpaid", "cancel"]
      : status === "unpaid" ? ["recover", "cancel"]
      : ["resume", "cancel"],
    );
    if (action === "cancel-at-end") subscriptionChange(current, { cancelAtPeriodEnd: !current.fixture.cancelAtPeriodEnd }, t);
    if (action === "change-plan") subscriptionChange(current, { price: current.fixture.price === PRICES.PRO ? PRICES.ENTERPRISE : PRICES.PRO }, t);
    if (action === "renewal-fails") {
      const id = `in_${prefix}${seed}_${++invoices}`;
      invoice(current, false, id, t, t);
      subscriptionChange(current, { status: "past_due", periodStart: t }, t);
    }
    if (action === "retry-fails") invoice(current, false, current.invoice!.id, current.invoice!.created, t);
    if (action === "recover") {
      invoice(current, true, current.invoice!.id, current.invoice!.created, t);
      subscriptionChange(current, { status: "active" }, t + 1);
      t += 1;
    }
    if (action === "unpaid") subscriptionChange(current, { status: "unpaid" }, t);
    if (action === "pause") subscriptionChange(current, { status: "paused" }, t);
    if (action === "resume") subscriptionChange(current, { status: "active" }, t, "customer.subscription.resumed");
    if (action === "cancel") subscriptionChange(current, { status: "canceled" }, t);
  }

  // What billing must choose: a subscription granting a plan over one that does not, the higher plan, the newest.
  const granting = (model: SubscriptionModel) => model.status === "active" || model.status === "trialing" || model.status === "past_due";
  const known = subscriptions.filter((model) => model.status !== null);
  known.sort((a, b) => Number(granting(b)) - Number(granting(a)) || (granting(a) ? Number(b.tier === "ENTERPRISE") - Number(a.tier === "ENTERPRISE") : 0) || b.lastCreated - a.lastCreated);
  const chosen = known[0];
  let plan = "FREE";
  if (chosen?.status === "active" || chosen?.status === "trialing") plan = chosen.tier;
  if (chosen?.status === "past_due") {
    const graceOver = chosen.invoice && !chosen.invoice.paid && chosen.invoice.created + GRACE_DAYS * DAY <= nowSeconds();
    plan = graceOver ? "FREE" : chosen.tier;
  }
  return { events, expected: { status: chosen?.status ?? null, tier: chosen?.tier ?? null, plan } };
}

/** Runs `work` over `items`, `concurrency` at a time. */
async function inParallel<T, R>(items: T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let nextIndex = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (nextIndex < items.length) {
        const index = nextIndex++;
        results[index] = await work(items[index]!);
      }
    }),
  );
  return results;
}

function shuffle<T>(items: T[], next: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

describe("Stripe webhooks", () => {
  let subgraph: TestSubgraph;
  let sql: TestSubgraph["runtime"]["database"]["sql"];

  beforeAll(async () => {
    subgraph = await startTestSubgraph(billingSubgraph, {
      env: {
        STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
        STRIPE_PRICE_PRO: PRICES.PRO,
        STRIPE_PRICE_ENTERPRISE: PRICES.ENTERPRISE,
        BILLING_PAST_DUE_GRACE_DAYS: String(GRACE_DAYS),
        BILLING_GRACE_SWEEP_MS: "200",
      },
    });
    sql = subgraph.runtime.database.sql;
  });
  afterAll(() => subgraph?.stop());

  /** Billing's whole state for a set of tenants, ids normalised (`prefix` → X), timestamps of our own writes left out. */
  async function stateOf(tenantIds: string[], prefix: string) {
    const normalise = (value: unknown) => (typeof value === "string" ? value.replaceAll(`_${prefix}`, "_X") : value);
    const rows = async (query: Promise<Record<string, unknown>[]>) =>
      (await query).map((row) => Object.fromEntries(Object.entries(row).filter(([key]) => key !== "updated_at" && key !== "tenant_id").map(([key, value]) => [key, normalise(value)])));
    const perTenant = [];
    for (const tenantId of tenantIds) {
      perTenant.push({
        subscriptions: await rows(sql`select * from billing.stripe_subscriptions where tenant_id = ${tenantId} order by stripe_subscription_id`),
        mirror: await rows(sql`select * from billing.billing_subscriptions where tenant_id = ${tenantId}`),
        customer: await rows(sql`select stripe_customer_id from billing.stripe_customers where tenant_id = ${tenantId}`),
        plan: (await sql`select billing.effective_plan(${tenantId}::uuid) as plan`)[0]!.plan,
      });
    }
    return perTenant;
  }

  it("ends 1,000 events for 50 tenants, shuffled and with duplicates, in exactly the state of the ordered stream", { timeout: 180_000 }, async () => {
    const tenants = 50;
    const perTenant = 20;
    const now = nowSeconds();
    const lives = Array.from({ length: tenants }, (_, k) => {
      // Half the tenants' histories lie within one grace period of now, half long before: past_due means both PRO and FREE.
      const base = k % 2 === 0 ? now - 2 * 3600 : now - 3 * DAY;
      const ordered = tenantLife(k + 1, "A", randomUUID(), base, perTenant);
      const shuffled = tenantLife(k + 1, "B", randomUUID(), base, perTenant);
      return { ordered, shuffled };
    });
    const orderedTenants = lives.map((life) => life.ordered.events[0]!.data.object.client_reference_id as string);
    const shuffledTenants = lives.map((life) => life.shuffled.events[0]!.data.object.client_reference_id as string);
    const orderedStream = lives.flatMap((life) => life.ordered.events).sort((a, b) => a.created - b.created);
    expect(orderedStream).toHaveLength(1000);
    expect(new Set(orderedStream.map((event) => event.type))).toEqual(
      new Set(["checkout.session.completed", "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted", "customer.subscription.paused", "customer.subscription.resumed", "invoice.paid", "invoice.payment_failed"]),
    );

    // Stripe's order, one at a time (a stable sort keeps each tenant's same-second events in the order they happened).
    for (const event of orderedStream) {
      const { status, body } = await deliver(subgraph.url, event);
      expect(status, JSON.stringify(body)).toBe(200);
    }

    // The same lives for other tenants: shuffled, 200 delivered twice, eight at a time.
    const next = random(20261212);
    const events = lives.flatMap((life) => life.shuffled.events);
    const duplicates = shuffle(events, next).slice(0, 200);
    const deliveries = shuffle([...events, ...duplicates], next);
    const outcomes = await inParallel(deliveries, 8, async (event) => {
      const { status, body } = await deliver(subgraph.url, event);
      expect(status, JSON.stringify(body)).toBe(200);
      return body.outcome;
    });
    expect(outcomes.filter((outcome) => outcome === "duplicate")).toHaveLength(200);
    expect(outcomes.filter((outcome) => outcome === "stale").length).toBeGreaterThan(0);

    const ordered = await stateOf(orderedTenants, "A");
    const shuffled = await stateOf(shuffledTenants, "B");
    expect(shuffled).toEqual(ordered);
    // And that state is what Stripe's order says: each tenant's chosen subscription and its plan.
    expect(ordered.map((tenant) => ({ status: tenant.mirror[0]?.status ?? null, tier: tenant.mirror[0]?.plan_tier ?? null, plan: tenant.plan }))).toEqual(
      lives.map((life) => life.ordered.expected),
    );
    expect(new Set(ordered.map((tenant) => tenant.plan))).toEqual(new Set(["FREE", "PRO", "ENTERPRISE"]));
    expect((await sql`select count(*)::int as n from billing.stripe_events where id like 'evt_B_%'`)[0]!.n).toBe(1000);

    // Then a forged signature, a stale one (301 s old) and a replay of a delivery each change nothing.
    const before = await stateOf(shuffledTenants, "B");
    const eventsBefore = (await sql`select count(*)::int as n from billing.stripe_events`)[0]!.n;
    const target = lives[0]!.shuffled.events.find((event) => event.type === "customer.subscription.created")!;
    const subscription = target.data.object as { id: string; customer: string };
    const cancel = subscriptionEvent(
      { id: subscription.id, customer: subscription.customer, tenantId: shuffledTenants[0]!, status: "canceled", price: PRICES.ENTERPRISE },
      nowSeconds(),
    );
    const forged = await deliver(subgraph.url, signed(cancel, { secret: "whsec_not_the_endpoints" }));
    expect(forged.status).toBe(400);
    const stale = await deliver(subgraph.url, signed(cancel, { timestamp: nowSeconds() - 301 }));
    expect(stale.status).toBe(400);
    const unsigned = await fetch(`${subgraph.url}/webhooks/stripe`, { method: "POST", body: JSON.stringify(cancel) });
    expect(unsigned.status).toBe(400);
    const tampered = signed(cancel);
    const altered = await deliver(subgraph.url, { payload: tampered.payload.replace('"canceled"', '"active"'), signature: tampered.signature });
    expect(altered.status).toBe(400);
    const replayedDelivery = signed(lives[0]!.shuffled.events.at(-1)!);
    expect((await deliver(subgraph.url, replayedDelivery)).body.outcome).toBe("duplicate");
    expect((await deliver(subgraph.url, replayedDelivery)).body.outcome).toBe("duplicate");
    expect(await stateOf(shuffledTenants, "B")).toEqual(before);
    expect((await sql`select count(*)::int as n from billing.stripe_events`)[0]!.n).toBe(eventsBefore);
  });

  it("raises a tenant FREE → PRO in the tenant directory at once, and cancellation brings FREE back, deleting nothing", async () => {
    const { tenant } = await createTestTenant(subgraph.runtime);
    const planInDirectory = async () => (await sql`select plan from tenant.tenant_directory where tenant_id = ${tenant.id}`)[0]?.plan;
    expect(await planInDirectory()).toBe("FREE");
    const heard: string[] = [];
    const listening = await sql.listen("kombify_plan_changed", (payload) => heard.push(payload));
    try {
      const customer = `cus_up_${tenant.id.slice(0, 8)}`;
      const fixture: SubscriptionFixture = { id: `sub_up_${tenant.id.slice(0, 8)}`, customer, tenantId: tenant.id, status: "active", price: PRICES.PRO };
      const t = nowSeconds();
      expect((await deliver(subgraph.url, checkoutCompleted(t, tenant.id, customer, fixture.id))).status).toBe(200);
      expect((await deliver(subgraph.url, subscriptionEvent(fixture, t, "customer.subscription.created"))).body.outcome).toBe("applied");
      expect(await planInDirectory()).toBe("PRO");
      await expect.poll(() => heard.includes(tenant.id), { timeout: 5_000 }).toBe(true);

      heard.length = 0;
      expect((await deliver(subgraph.url, subscriptionEvent({ ...fixture, status: "canceled" }, t + 60))).body.outcome).toBe("applied");
      expect(await planInDirectory()).toBe("FREE");
      await expect.poll(() => heard.includes(tenant.id), { timeout: 5_000 }).toBe(true);
      // Everything is still there: the tenant, its customer, its subscription (canceled) and the mirror's row.
      expect((await sql`select count(*)::int as n from tenant.tenant_directory where tenant_id = ${tenant.id}`)[0]!.n).toBe(1);
      expect((await sql`select stripe_customer_id from billing.stripe_customers where tenant_id = ${tenant.id}`).map((row) => row.stripe_customer_id)).toEqual([customer]);
      expect((await sql`select status, plan_tier from billing.stripe_subscriptions where tenant_id = ${tenant.id}`).map((row) => ({ ...row }))).toEqual([{ status: "canceled", plan_tier: "PRO" }]);
      expect((await sql`select status, plan_tier, stripe_subscription_id from billing.billing_subscriptions where tenant_id = ${tenant.id}`).map((row) => ({ ...row }))).toEqual([
        { status: "canceled", plan_tier: "PRO", stripe_subscription_id: fixture.id },
      ]);
      // A late "active" from before the cancellation changes nothing.
      expect((await deliver(subgraph.url, subscriptionEvent({ ...fixture, cancelAtPeriodEnd: true }, t + 30))).body.outcome).toBe("stale");
      expect(await planInDirectory()).toBe("FREE");
    } finally {
      await listening.unlisten();
    }
  });

  it("keeps PRO through a past-due grace period, then FREE, announcing the end when it comes", async () => {
    const { tenant } = await createTestTenant(subgraph.runtime);
    const planInDirectory = async () => (await sql`select plan from tenant.tenant_directory where tenant_id = ${tenant.id}`)[0]?.plan;
    const customer = `cus_due_${tenant.id.slice(0, 8)}`;
    const fixture: SubscriptionFixture = { id: `sub_due_${tenant.id.slice(0, 8)}`, customer, tenantId: tenant.id, status: "active", price: PRICES.PRO };
    const t = nowSeconds();
    await deliver(subgraph.url, subscriptionEvent(fixture, t - 40 * DAY, "customer.subscription.created"));
    expect(await planInDirectory()).toBe("PRO");

    // The renewal invoice failed: it was made one grace period minus 3 s ago, so the grace ends in 3 s.
    const invoice = { id: `in_due_${tenant.id.slice(0, 8)}`, created: t - GRACE_DAYS * DAY + 3, subscription: fixture.id, customer, tenantId: tenant.id };
    expect((await deliver(subgraph.url, invoiceEvent(false, invoice, t))).body.outcome).toBe("applied");
    expect((await deliver(subgraph.url, subscriptionEvent({ ...fixture, status: "past_due" }, t))).body.outcome).toBe("applied");
    expect(await planInDirectory()).toBe("PRO");
    const graceEndsAt: Date = (await sql`select grace_ends_at from billing.stripe_subscriptions where stripe_subscription_id = ${fixture.id}`)[0]!.grace_ends_at;
    expect(new Date(graceEndsAt).getTime()).toBe((invoice.created + GRACE_DAYS * DAY) * 1000);

    const heard: { tenant: string; at: number }[] = [];
    const listening = await sql.listen("kombify_plan_changed", (payload) => heard.push({ tenant: payload, at: Date.now() }));
    try {
      // A retry of the same invoice failing does not extend the grace period.
      expect((await deliver(subgraph.url, invoiceEvent(false, invoice, t + 1))).body.outcome).toBe("stale");
      await expect.poll(planInDirectory, { timeout: 8_000, interval: 100 }).toBe("FREE");
      expect(Date.now()).toBeGreaterThanOrEqual(new Date(graceEndsAt).getTime());
      // No webhook arrived at the end of the grace period: the sweeper announced it.
      await expect.poll(() => heard.some((event) => event.tenant === tenant.id && event.at >= new Date(graceEndsAt).getTime()), { timeout: 3_000 }).toBe(true);
      expect((await sql`select status from billing.billing_subscriptions where tenant_id = ${tenant.id}`)[0]!.status).toBe("past_due");

      // Paid at last: PRO again, at once.
      expect((await deliver(subgraph.url, invoiceEvent(true, invoice, t + 5))).body.outcome).toBe("applied");
      expect((await deliver(subgraph.url, subscriptionEvent({ ...fixture, status: "active" }, t + 6))).body.outcome).toBe("applied");
      expect(await planInDirectory()).toBe("PRO");
    } finally {
      await listening.unlisten();
    }
  });

  it("answers 500 and keeps nothing of an event it cannot apply, so Stripe's retry applies it whole", async () => {
    const tenantId = randomUUID();
    const customer = `cus_odd_${tenantId.slice(0, 8)}`;
    const t = nowSeconds();
    await deliver(subgraph.url, checkoutCompleted(t, tenantId, customer, `sub_odd_${tenantId.slice(0, 8)}`));
    const unsellable = subscriptionEvent({ id: `sub_odd_${tenantId.slice(0, 8)}`, customer, tenantId, status: "active", price: "price_nobody_configured" }, t + 1);
    const { status } = await deliver(subgraph.url, unsellable);
    expect(status).toBe(500);
    expect((await sql`select count(*)::int as n from billing.stripe_events where id = ${unsellable.id}`)[0]!.n).toBe(0);
    expect((await sql`select status from billing.stripe_subscriptions where tenant_id = ${tenantId}`).map((row) => row.status)).toEqual([null]);
    expect(await sql`select * from billing.billing_subscriptions where tenant_id = ${tenantId}`).toHaveLength(0);
  });

  it("acknowledges events it does not act on, and refuses bodies over the limit", async () => {
    const other = envelope("customer.created", nowSeconds(), { id: "cus_other", object: "customer" });
    expect(await deliver(subgraph.url, other)).toEqual({ status: 200, body: { received: true, outcome: "unhandled" } });
    expect((await deliver(subgraph.url, other)).body.outcome).toBe("duplicate");
    const stranger = subscriptionEvent({ id: "sub_stranger", customer: "cus_stranger", tenantId: "not-a-tenant", status: "active", price: PRICES.PRO }, nowSeconds());
    expect((await deliver(subgraph.url, stranger)).body.outcome).toBe("unknown-tenant");
    const huge = signed(envelope("customer.updated", nowSeconds(), { id: "cus_huge", object: "customer", description: "x".repeat(600 * 1024) }));
    expect((await deliver(subgraph.url, huge)).status).toBe(413);
  });
});
