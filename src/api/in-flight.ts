/**
 * Bounds what one account has in flight at the API: at most `limit` event starts per account run against
 * Temporal at once, the next ones wait in that account's own FIFO queue (a batch of 100 is taken whole,
 * just paced), and past `limit + queued` waiting the event is answered 429 with Retry-After. So a flood of
 * batches from one account holds at most `limit` of the frontend's concurrent starts, while every other
 * account still gets its own `limit` at once. Per API process.
 */
import { ApiError } from '../shared/errors';

export const IN_FLIGHT_RETRY_AFTER_S = 1;

interface Lane {
  running: number;
  waiting: Array<() => void>;
}

export class AccountGate {
  private readonly lanes = new Map<string, Lane>();

  constructor(
    private readonly limit: number,
    private readonly queued: number,
  ) {}

  /** Runs `fn` within the account's bound, or throws a 429 when its queue is full. */
  async run<T>(accountId: string, fn: () => Promise<T>): Promise<T> {
    if (this.limit === 0) return fn();
    let lane = this.lanes.get(accountId);
    if (!lane) this.lanes.set(accountId, (lane = { running: 0, waiting: [] }));
    if (lane.running >= this.limit) {
      if (lane.waiting.length >= this.queued) {
        throw new ApiError(
          429,
          'too_many_in_flight',
          `this account already has ${this.limit + this.queued} events being started; retry after ${IN_FLIGHT_RETRY_AFTER_S} s`,
          [],
          { 'Retry-After': String(IN_FLIGHT_RETRY_AFTER_S) },
        );
      }
      // The slot is handed over by the finishing start (running stays counted).
      await new Promise<void>((resolve) => lane.waiting.push(resolve));
    } else {
      lane.running++;
    }
    try {
      return await fn();
    } finally {
      const next = lane.waiting.shift();
      if (next) next();
      else if (--lane.running === 0) this.lanes.delete(accountId);
    }
  }
}
