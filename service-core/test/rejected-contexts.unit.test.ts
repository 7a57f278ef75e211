import { describe, expect, it } from "vitest";
import { RejectedContexts } from "@kombify/service-core/server";

describe("rejected contexts: counted always, audited at most once a window per source", () => {
  it("audits a source's first rejection, then its next one only after the window, saying how many went unaudited", () => {
    let now = 1_000_000;
    const rejections = new RejectedContexts(60_000, 100, () => now);
    expect(rejections.record("10.0.0.1")).toEqual({ audit: true, suppressed: 0 });
    for (let i = 0; i < 59; i++) expect(rejections.record("10.0.0.1").audit).toBe(false);
    expect(rejections.record("10.0.0.2")).toEqual({ audit: true, suppressed: 0 });
    now += 60_000;
    expect(rejections.record("10.0.0.1")).toEqual({ audit: true, suppressed: 59 });
    expect(rejections.stats).toEqual({ rejectedContexts: 62, auditedRejectedContexts: 3 });
  });

  it("keeps at most maxSources sources, dropping the least recently seen", () => {
    const now = 5_000;
    const rejections = new RejectedContexts(60_000, 2, () => now);
    rejections.record("a");
    rejections.record("b");
    rejections.record("a");
    rejections.record("c");
    // "b" was the least recently seen, so it went; "a" is still throttled.
    expect(rejections.record("a").audit).toBe(false);
    expect(rejections.record("b").audit).toBe(true);
  });

  it("caps the rows of all sources together per window: 200 sources on loopback write 60, not 200", () => {
    let now = 7_000;
    const rejections = new RejectedContexts(60_000, 10_000, () => now);
    const audited = Array.from({ length: 200 }, (_, i) => rejections.record(`127.0.1.${i}`).audit).filter(Boolean);
    expect(audited).toHaveLength(60);
    expect(rejections.stats).toEqual({ rejectedContexts: 200, auditedRejectedContexts: 60 });
    now += 60_000;
    expect(rejections.record("127.0.1.199")).toEqual({ audit: true, suppressed: 1 });
  });
});
