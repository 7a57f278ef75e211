import { describe, expect, it } from "vitest";
import { AppError } from "@kombify/service-core/errors";
import { PushQueue } from "@kombify/service-core/streams";

describe("PushQueue, the per-subscriber stream", () => {
  it("ends at once when the consumer leaves, even while a next() is pending, so upstream is released", async () => {
    let closed = 0;
    const queue = new PushQueue<number>(() => (closed += 1));
    const pending = queue.next();
    await queue.return();
    await expect(pending).resolves.toEqual({ value: undefined, done: true });
    expect(closed).toBe(1);
    queue.push(1);
    await expect(queue.next()).resolves.toEqual({ value: undefined, done: true });
    expect(closed).toBe(1);
  });

  it("cuts off only a consumer that falls behind, with the error it was given", async () => {
    const slow = new PushQueue<number>(() => {}, 3, () => new AppError("RATE_LIMITED", "too slow"));
    const fast = new PushQueue<number>(() => {}, 3);
    const seen: number[] = [];
    for (let i = 0; i < 10; i++) {
      slow.push(i);
      fast.push(i);
      seen.push((await fast.next()).value as number);
    }
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const drained = [await slow.next(), await slow.next(), await slow.next()].map((result) => result.value);
    expect(drained).toEqual([0, 1, 2]);
    await expect(slow.next()).rejects.toMatchObject({ extensions: { code: "RATE_LIMITED" } });
  });

  it("completes after what is buffered has been read", async () => {
    const queue = new PushQueue<string>(() => {});
    queue.push("a");
    queue.push("b");
    queue.end();
    queue.push("ignored");
    expect([(await queue.next()).value, (await queue.next()).value, (await queue.next()).done]).toEqual(["a", "b", true]);
  });
});
