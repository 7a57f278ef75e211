import { AppError, ErrorCode } from "@kombify/service-core/errors";

/**
 * How many subscription documents one audience may have planned anew per window. Planning runs on the event
 * loop, tens of milliseconds for a large document, and the field ceiling bounds one plan, not how many distinct
 * ones arrive: a hundred distinct documents on a socket stalled everyone for seconds. Kept plans cost nothing,
 * so a dashboard that resubscribes its few documents never meets this.
 */
export class PlanningBudget {
  private readonly spent = new Map<string, { windowEndsAt: number; plans: number }>();

  constructor(
    /** New plans per audience per window. @default 20 */
    private readonly plansPerWindow = 20,
    private readonly windowMs = 60_000,
    /** Audiences remembered; beyond it the oldest windows are forgotten (an audience is a tenant, a user, or anonymous). */
    private readonly maxAudiences = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one new plan from the audience's budget, or refuses with RATE_LIMITED saying when to retry. */
  take(audience: string): void {
    const now = this.now();
    let window = this.spent.get(audience);
    if (!window || window.windowEndsAt <= now) {
      this.spent.delete(audience);
      if (this.spent.size >= this.maxAudiences) this.spent.delete(this.spent.keys().next().value!);
      window = { windowEndsAt: now + this.windowMs, plans: 0 };
      this.spent.set(audience, window);
    }
    if (window.plans >= this.plansPerWindow) {
      const retryAfter = Math.ceil((window.windowEndsAt - now) / 1000);
      throw new AppError(
        ErrorCode.RATE_LIMITED,
        `Too many different subscription documents: at most ${this.plansPerWindow} new ones a minute. Reuse the ones you have, or retry in ${retryAfter} s.`,
        { retryAfter },
      );
    }
    window.plans += 1;
  }
}
