/**
 * Bounds what one account has in flight at the API: at most `limit` event starts per account run against
 * Temporal at once, the next ones wait in that account's own FIFO queue (a batch of 100 is taken whole,
 * just paced), and past `limit + queued` waiting the event is answered 429 with Retry-After. So a flood of
 * batches from one account holds at most `limit` of the frontend's concurrent starts, while every other
 * account still gets its own `limit` at once. Per API process.
 *
 * A wait is also bounded in time: when starts are slow (Temporal restarting, a host short of CPU), an
 * event that has not had its turn by `waitUntil` leaves the queue with the same 429, so the CRM gets an
 * answer in seconds instead of a queue that only grows.
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

  /** Runs `fn` within the account's bound, or throws a 429 when its queue is full or its turn is late. */
  async run<T>(accountId: string, fn: () => Promise<T>, waitUntil = Infinity): Promise<T> {
    if (this.limit === 0) return fn();
    let lane = this.lanes.get(accountId);
    if (!lane) this.lanes.set(accountId, (lane = { running: 0, waiting: [] }));
    if (lane.running >= this.limit) {
      if (lane.waiting.length >= this.queued) {
        throw this.refused(`this account already has ${this.limit + this.queued} events being started`);
      }
      // The slot is handed over by the finishing start (running stays counted).
      if (!(await this.turn(lane, waitUntil))) {
        throw this.refused(`this account's events are being started slower than they arrive`);
      }
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

  /** True once a finishing start hands this waiter its slot; false if `waitUntil` comes first. */
  private turn(lane: Lane, waitUntil: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const handOver = () => {
        clearTimeout(timer);
        resolve(true);
      };
      lane.waiting.push(handOver);
      if (Number.isFinite(waitUntil)) {
        timer = setTimeout(() => {
          lane.waiting.splice(lane.waiting.indexOf(handOver), 1);
          resolve(false);
        }, waitUntil - Date.now());
      }
    });
  }

  private refused(why: string): ApiError {
    return new ApiError(429, 'too_many_in_flight', `${why}; retry after ${IN_FLIGHT_RETRY_AFTER_S} s`, [], {
      'Retry-After': String(IN_FLIGHT_RETRY_AFTER_S),
    });
  }
}
