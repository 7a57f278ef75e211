import { describe, expect, it } from "vitest";
import type { Caller } from "@kombify/service-core/auth";
import type { SubgraphAnswer } from "../src/execution/subgraph-client.js";
import { EventFetchCache, reusePolicy } from "../src/subscriptions/core/event-fetch-cache.js";
import { sharingAudience } from "../src/subscriptions/core/sharing-audience.js";

const member = (tenantId: string, plan = "FREE", userId = `user-of-${tenantId}`): Caller => ({
  kind: "user",
  userId,
  email: null,
  name: null,
  orgId: `org-${tenantId}`,
  orgName: null,
  roles: ["tenant:owner"],
  tenant: { id: tenantId, slug: tenantId, plan: plan as "FREE" },
});

/** A subgraph stand-in that answers with the given Cache-Control and counts what reaches it. */
function subgraph(cacheControl: string | null, answer: () => { data?: Record<string, unknown>; errors?: { message: string }[] } = () => ({ data: { _entities: [{ name: "Media Center" }] } })) {
  const calls = { count: 0 };
  const send = async (): Promise<SubgraphAnswer> => {
    calls.count += 1;
    return { text: JSON.stringify(answer()), cacheControl: cacheControl ?? undefined };
  };
  return { send, calls };
}

const QUERY = "query($representations:[_Any!]!){_entities(representations:$representations){...on StackKit{name}}}";

/** One event's fetch of a StackKit through the cache, parsed as the hub parses it. */
async function fetchWith(cache: EventFetchCache, send: () => Promise<SubgraphAnswer>, caller: Caller, variables: Record<string, unknown> = { representations: [{ __typename: "StackKit", id: "media-center" }] }) {
  const answer = await cache.fetch("stackkit", JSON.stringify({ query: QUERY, variables }), sharingAudience(caller), send);
  return JSON.parse(answer.text) as { data?: Record<string, unknown> };
}

describe("EventFetchCache", () => {
  it("reads Cache-Control: max-age with public or private; no-store, no-cache, max-age=0 and no header are not reusable", () => {
    expect(reusePolicy("max-age=60, private")).toEqual({ maxAgeSeconds: 60, shared: false });
    expect(reusePolicy("max-age=30, public")).toEqual({ maxAgeSeconds: 30, shared: true });
    expect(reusePolicy("max-age=30")).toEqual({ maxAgeSeconds: 30, shared: false });
    expect(reusePolicy("max-age=86400, public")).toEqual({ maxAgeSeconds: 300, shared: true });
    for (const header of ["no-store", "max-age=60, no-cache", "max-age=0, private", "max-age=abc", "private", "", null, undefined]) {
      expect(reusePolicy(header)).toBeNull();
    }
  });

  it("reuses a private answer within its audience (tenant, plan, roles) until it expires, never for another tenant or plan", async () => {
    let now = 1_000_000;
    const cache = new EventFetchCache({}, () => now);
    const { send, calls } = subgraph("max-age=60, private");
    const first = await fetchWith(cache, send, member("a"));
    const second = await fetchWith(cache, send, member("a"));
    expect(second.data).toEqual(first.data);
    expect(calls.count).toBe(1);
    await fetchWith(cache, send, member("b"));
    await fetchWith(cache, send, member("a", "PRO"));
    expect(calls.count).toBe(3);
    // Another member of the same audience: the hub resolves events per audience, so it shares the answer too.
    await fetchWith(cache, send, member("a", "FREE", "another-user-of-a"));
    expect(calls.count).toBe(3);
    await fetchWith(cache, send, member("a"), { representations: [{ __typename: "StackKit", id: "other-kit" }] });
    expect(calls.count).toBe(4);
    now += 60_001;
    await fetchWith(cache, send, member("a"));
    expect(calls.count).toBe(5);
    expect(cache.stats).toMatchObject({ hits: 2, misses: 5 });
  });

  it("shares a public answer across audiences", async () => {
    const cache = new EventFetchCache();
    const { send, calls } = subgraph("max-age=60, public");
    await fetchWith(cache, send, member("a"));
    await fetchWith(cache, send, member("b"));
    await fetchWith(cache, send, member("a", "FREE", "another-user-of-a"));
    await fetchWith(cache, send, { kind: "anonymous" });
    expect(calls.count).toBe(1);
  });

  it("fetches again for every event when the answer is not reusable or has errors", async () => {
    for (const [header, answer] of [
      [null, undefined],
      ["no-store", undefined],
      ["max-age=60, private", () => ({ data: { _entities: [null] }, errors: [{ message: "The stackkit service is unavailable" }] })],
    ] as const) {
      const { send, calls } = subgraph(header, answer);
      const cache = new EventFetchCache();
      await fetchWith(cache, send, member("a"));
      await fetchWith(cache, send, member("a"));
      expect(calls.count).toBe(2);
    }
  });

  it("gives every reuse its own copy, since executing a plan merges into what a fetch returns", async () => {
    const cache = new EventFetchCache();
    const { send } = subgraph("max-age=60, private");
    const first = await fetchWith(cache, send, member("a"));
    ((first.data!._entities as Record<string, unknown>[])[0]!).name = "changed by a merge";
    const second = await fetchWith(cache, send, member("a"));
    expect(second.data).toEqual({ _entities: [{ name: "Media Center" }] });
    ((second.data!._entities as Record<string, unknown>[])[0]!).name = "changed again";
    expect((await fetchWith(cache, send, member("a"))).data).toEqual({ _entities: [{ name: "Media Center" }] });
  });

  it("holds at most its size, dropping the least recently used answers, and keeps no answer larger than its entry bound", async () => {
    const probe = new EventFetchCache();
    await fetchWith(probe, subgraph("max-age=60, private").send, member("a"));
    const entryChars = probe.stats.chars;
    expect(entryChars).toBeGreaterThan(0);

    const cache = new EventFetchCache({ maxChars: 3 * entryChars + 1 });
    const { send, calls } = subgraph("max-age=60, private");
    for (const tenant of ["a", "b", "c"]) await fetchWith(cache, send, member(tenant));
    await fetchWith(cache, send, member("a"));
    await fetchWith(cache, send, member("d"));
    expect(cache.stats.entries).toBe(3);
    expect(cache.stats.chars).toBeLessThanOrEqual(3 * entryChars + 1);
    expect(calls.count).toBe(4);
    await fetchWith(cache, send, member("a"));
    expect(calls.count).toBe(4);
    await fetchWith(cache, send, member("b"));
    expect(calls.count).toBe(5);

    const small = new EventFetchCache({ maxEntryChars: entryChars - 1 });
    const large = subgraph("max-age=60, private");
    await fetchWith(small, large.send, member("a"));
    await fetchWith(small, large.send, member("a"));
    expect(large.calls.count).toBe(2);
    expect(small.stats.entries).toBe(0);
  });
});
