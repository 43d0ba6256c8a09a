/**
 * EVENTS_RATE_LIMIT_PER_MINUTE counts events, not requests: a batch of 100 uses 100. Fixed one-minute
 * windows per account, in this API process's memory (each process has its own budget).
 */
export class EventQuota {
  private readonly windows = new Map<string, { start: number; used: number }>();
  constructor(private readonly perMinute: number) {}

  /** Takes up to `n` events from the account's budget: how many were granted, and when to come back. */
  take(accountId: string, n: number): { granted: number; retryAfterSeconds: number } {
    if (this.perMinute === 0) return { granted: n, retryAfterSeconds: 0 };
    const now = Date.now();
    let w = this.windows.get(accountId);
    if (!w || now - w.start >= 60_000) {
      if (this.windows.size > 100_000) this.windows.clear();
      w = { start: now, used: 0 };
      this.windows.set(accountId, w);
    }
    const granted = Math.min(n, Math.max(0, this.perMinute - w.used));
    w.used += granted;
    return { granted, retryAfterSeconds: Math.max(1, Math.ceil((w.start + 60_000 - now) / 1000)) };
  }
}
