/**
 * Keyed and timed rule runs on the time-skipping server: waits before a date, reschedules, stale
 * updates, cancels (sleeping, waiting for the window, too late), send times already passed and a
 * second trigger event for the same key. planSend is the real planning code (sendPlan) over a fixed
 * rule and timezone; prepareRun and the deliveries are stubbed.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { sendPlan } from '../../src/activities/follow';
import { FOLLOW_SIGNAL, workflowIds } from '../../src/shared/constants';
import type {
  DeliveryContext,
  FollowMessage,
  MatchedRule,
  PreparedRun,
  RenderedAction,
  RuleRunInput,
  RuleRunResult,
  RunEvent,
} from '../../src/shared/run-types';
import type { Rule } from '../../src/shared/schemas';
import { timeSkippingEnv, testWorker } from '../helpers/time-skipping';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await timeSkippingEnv();
}, 120_000);
afterAll(async () => {
  await env?.teardown();
});

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();
const webhook: RenderedAction = {
  index: 0,
  type: 'webhook',
  url: 'https://h.example.com/x',
  method: 'POST',
  payload: {},
};
const ready: PreparedRun = {
  status: 'ready',
  ruleVersion: 1,
  ruleName: 'reminder',
  matched: true,
  conditions: [],
  actions: [webhook],
  userFound: null,
};

type Timing = Pick<Rule, 'delay' | 'window'>;
const dayBefore: Timing = {
  delay: {
    until: { fact: 'job', path: '$.scheduledAt' },
    offset: { value: -1, unit: 'days' },
    ifPast: 'skip',
  },
  window: null,
};

interface Harness {
  key: string;
  workflowId: string;
  start(e: RunEvent): Promise<void>;
  signal(m: FollowMessage): Promise<void>;
  result(): Promise<RuleRunResult>;
  /** Workflow times at which prepareRun ran, and the events it ran for. */
  prepared: { at: number; event: RunEvent }[];
  sends: DeliveryContext[];
  /** Every planSend answer, in order. */
  plans: ReturnType<typeof sendPlan>[];
}

let seq = 0;
async function harness(
  timing: Timing,
  run: (h: Harness) => Promise<void>,
  opts: { tz?: string; slowSend?: boolean } = {},
): Promise<Harness> {
  const taskQueue = `follow-${++seq}-${Math.random().toString(36).slice(2)}`;
  const rule: MatchedRule = {
    id: 'rule_r',
    name: 'reminder',
    version: 1,
    delayMs: 0,
    delayText: '1 day before job.scheduledAt',
    follow: { key: { fact: 'job', path: '$.id' }, as: 'trigger' },
  };
  const key = `job-${seq}`;
  const workflowId = workflowIds.keyedRun(rule.id, key);
  const h: Harness = {
    key,
    workflowId,
    prepared: [],
    sends: [],
    plans: [],
    async start(event) {
      const input: RuleRunInput = { accountId: 'acc_1', rule, event };
      await env.client.workflow.signalWithStart('ruleRunWorkflow', {
        taskQueue,
        workflowId,
        args: [input],
        signal: FOLLOW_SIGNAL,
        signalArgs: [{ as: 'trigger', event }],
      });
    },
    async signal(m) {
      await env.client.workflow.getHandle(workflowId).signal(FOLLOW_SIGNAL, m);
    },
    result: () => env.client.workflow.getHandle(workflowId).result() as Promise<RuleRunResult>,
  };
  const activities = {
    planSend: async (i: {
      event: RunEvent;
      now: string;
      previous: { event: RunEvent; sendAt: string } | null;
    }) => {
      const p = sendPlan(timing, i.event, Date.parse(i.now), opts.tz ?? 'UTC', i.previous);
      h.plans.push(p);
      return p;
    },
    prepareRun: async (i: { event: RunEvent }) => {
      h.prepared.push({ at: await env.currentTimeMs(), event: i.event });
      return ready;
    },
    sendWebhook: async (ctx: DeliveryContext) => {
      h.sends.push(ctx);
      // A delivery that takes a while (a slow receiver): time for a cancel to arrive meanwhile.
      if (opts.slowSend) await new Promise((r) => setTimeout(r, 1500));
      return { providerId: 'p', via: 'provider', attempts: 1 };
    },
  };
  const worker = await testWorker(env, taskQueue, activities);
  await worker.runUntil(() => run(h));
  return h;
}

let n = 0;
function job(scheduledAt: number, occurredAt: number, extra: Partial<RunEvent> = {}, key?: string): RunEvent {
  return {
    id: `evt-${++n}`,
    name: 'job.created',
    occurredAt: iso(occurredAt),
    receivedAt: iso(occurredAt),
    payload: { job: { id: key, scheduledAt: iso(scheduledAt) } },
    ...extra,
  };
}

describe('keyed rule runs (trigger.key, until, updateOn, cancelOn)', () => {
  test('waits 3 days before a date 4 days ahead, then sends once', async () => {
    const h = await harness(dayBefore, async (h) => {
      const now = await env.currentTimeMs();
      await h.start(job(now + 4 * DAY, now));
      expect((await h.result()).outcome).toBe('sent');
      expect(h.prepared).toHaveLength(1);
      expect(h.prepared[0].at - now).toBeGreaterThanOrEqual(3 * DAY);
      expect(h.prepared[0].at - now).toBeLessThan(3 * DAY + HOUR);
    });
    expect(h.sends).toHaveLength(1);
    expect(h.plans[0]).toMatchObject({ status: 'planned', rescheduled: null });
  });

  test('rescheduled earlier, then later: sends once, at the last time, keyed on the event it sent for', async () => {
    const h = await harness(dayBefore, async (h) => {
      const now = await env.currentTimeMs();
      await h.start(job(now + 5 * DAY, now));
      await env.sleep(HOUR);
      const earlier = job(now + 3 * DAY, now + HOUR, { name: 'job.rescheduled' });
      await h.signal({ as: 'update', event: earlier });
      await env.sleep(HOUR);
      const later = job(now + 6 * DAY, now + 2 * HOUR, { name: 'job.rescheduled' });
      await h.signal({ as: 'update', event: later });
      expect((await h.result()).outcome).toBe('sent');
      expect(h.prepared.map((p) => p.event.id)).toEqual([later.id]);
      expect(h.prepared[0].at - now).toBeGreaterThanOrEqual(5 * DAY);
      expect(h.sends[0].idempotencyKey).toBe(`${workflowIds.ruleRun('rule_r', later.id)}.action-0`);
    });
    expect(h.plans.map((p) => p.status)).toEqual(['planned', 'planned', 'planned']);
    expect(h.plans[2]).toMatchObject({
      rescheduled: { byEvent: expect.stringContaining('job.rescheduled') },
    });
    expect(h.sends).toHaveLength(1);
  });

  test('a stale update (older occurredAt) is ignored and recorded; a second trigger event for the key moves the run', async () => {
    const h = await harness(dayBefore, async (h) => {
      const now = await env.currentTimeMs();
      const first = job(now + 2 * DAY, now);
      await h.start(first);
      await env.sleep(HOUR);
      await h.signal({ as: 'update', event: job(now + 10 * DAY, now - HOUR, { name: 'job.updated' }) });
      await env.sleep(HOUR);
      const second = job(now + 3 * DAY, now + 2 * HOUR);
      await h.start(second); // signal-with-start on a pending run: no second run
      expect((await h.result()).outcome).toBe('sent');
      expect(h.prepared.map((p) => p.event.id)).toEqual([second.id]);
      expect(h.prepared[0].at - now).toBeGreaterThanOrEqual(2 * DAY);
    });
    expect(h.plans[1]).toMatchObject({ status: 'stale', reason: expect.stringContaining('ignored') });
    expect(h.sends).toHaveLength(1);
  });

  test('cancelled while sleeping: ends cancelled with the event as the reason, nothing sent', async () => {
    const h = await harness(dayBefore, async (h) => {
      const now = await env.currentTimeMs();
      await h.start(job(now + 3 * DAY, now));
      await env.sleep(DAY);
      const cancel = job(0, now + DAY, { name: 'job.cancelled' });
      await h.signal({ as: 'cancel', event: cancel });
      expect(await h.result()).toEqual({
        outcome: 'cancelled',
        ruleId: 'rule_r',
        ruleVersion: null,
        reason: `cancelled by job.cancelled (event ${cancel.id})`,
        actions: [],
      });
    });
    expect(h.prepared).toHaveLength(0);
    expect(h.sends).toHaveLength(0);
  });

  test('cancelled while waiting for the window', async () => {
    const weekdays: Timing = {
      delay: {
        until: { fact: 'job', path: '$.scheduledAt' },
        offset: { value: 0, unit: 'minutes' },
        ifPast: 'skip',
      },
      window: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '08:00', end: '20:00', timezone: 'UTC' },
    };
    const h = await harness(weekdays, async (h) => {
      const now = await env.currentTimeMs();
      // The next Saturday 12:00 UTC: the window opens on Monday 08:00.
      const d = new Date(now + DAY);
      const sat = Date.UTC(
        d.getUTCFullYear(),
        d.getUTCMonth(),
        d.getUTCDate() + ((6 - d.getUTCDay() + 7) % 7),
        12,
      );
      await h.start(job(sat, now));
      await env.sleep(sat - now + HOUR);
      await h.signal({ as: 'cancel', event: job(0, sat + HOUR, { name: 'job.cancelled' }) });
      expect((await h.result()).outcome).toBe('cancelled');
    });
    expect(h.plans[0]).toMatchObject({ status: 'planned', window: { timezone: 'UTC' } });
    expect(new Date((h.plans[0] as { sendAt: string }).sendAt).getUTCDay()).toBe(1);
    expect(h.sends).toHaveLength(0);
  });

  test('an event arriving after its send time: skipped with the reason, or sent now with ifPast sendNow', async () => {
    const skipped = await harness(dayBefore, async (h) => {
      const now = await env.currentTimeMs();
      await h.start(job(now + HOUR, now));
      expect(await h.result()).toMatchObject({
        outcome: 'skipped',
        reason: expect.stringMatching(/^send time .* already passed$/),
      });
    });
    expect(skipped.sends).toHaveLength(0);
    const sendNow: Timing = {
      ...dayBefore,
      delay: { ...dayBefore.delay, ifPast: 'sendNow' } as Timing['delay'],
    };
    const sent = await harness(sendNow, async (h) => {
      await h.start(job((await env.currentTimeMs()) + HOUR, await env.currentTimeMs()));
      expect((await h.result()).outcome).toBe('sent');
    });
    expect(sent.sends).toHaveLength(1);
  });

  test('a missing or unparsable date ends the run skipped, never failed', async () => {
    const h = await harness(dayBefore, async (h) => {
      const now = await env.currentTimeMs();
      await h.start({ ...job(now, now), payload: { job: { scheduledAt: 'next tuesday' } } });
      expect(await h.result()).toMatchObject({
        outcome: 'skipped',
        reason: expect.stringContaining('job.scheduledAt'),
      });
    });
    expect(h.sends).toHaveLength(0);
  });

  test('a cancel that arrives while the action is being delivered is too late: sent once, and the result says so', async () => {
    const h = await harness(
      dayBefore,
      async (h) => {
        const now = await env.currentTimeMs();
        await h.start(job(now + DAY + HOUR, now));
        const done = h.result(); // awaiting the result lets the server skip time
        for (let i = 0; i < 400 && !h.sends.length; i++) await new Promise((r) => setTimeout(r, 50));
        await h.signal({ as: 'cancel', event: job(0, now + HOUR, { name: 'job.cancelled' }) });
        const result = await done;
        expect(result.outcome).toBe('sent');
        expect(result.reason).toMatch(/cancel by job\.cancelled .* came too late/);
      },
      { slowSend: true },
    );
    expect(h.sends).toHaveLength(1);
  });
});
