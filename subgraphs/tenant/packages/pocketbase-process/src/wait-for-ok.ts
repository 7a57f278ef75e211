/** Polls `url` until it answers 200 or `timeoutMs` passes; `abort` ends the wait early (a child died). */
export async function waitForOk(url: string, timeoutMs: number, abort?: () => string | null): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const aborted = abort?.();
    if (aborted) throw new Error(aborted);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error(`${url} did not become ready within ${timeoutMs / 1000} s.`);
}
