/** setTimeout's longest wait; a later expiry fires then, which only ends a connection early, never late. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Calls `expire` when the token expires (at once if it has), until the returned timer is cleared. */
export function whenTokenExpires(expiresAt: Date, expire: () => void): NodeJS.Timeout {
  const remaining = Math.min(expiresAt.getTime() - Date.now(), MAX_TIMER_MS);
  return setTimeout(expire, Math.max(0, remaining));
}
