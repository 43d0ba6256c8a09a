/**
 * A run of a rule that follows one job (`trigger.key`), or waits until a date in the event or a send
 * window. Keyed runs have the workflow id (rule, key value) and get every later event with that key
 * as a signal (signal-with-start, so Temporal keeps one pending run per key): a newer trigger or
 * updateOn event moves the send time, an older one is ignored, a cancelOn event ends the run.
 * Once the send time has come, delivery runs to its end: a later cancel is recorded as too late.
 */
import {
  condition,
  defineSignal,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { FOLLOW_SIGNAL } from '../shared/constants';
import type { FollowMessage, RuleRunInput, RuleRunResult, RunEvent, SendPlan } from '../shared/run-types';
import { deliver } from './rule-run';

export const followSignal = defineSignal<[FollowMessage]>(FOLLOW_SIGNAL);

// Reads a rule and perhaps a user: inside the workflow task the start or the signal brings.
const { planSend } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});

const describe = (e: RunEvent) => `${e.name} (event ${e.id})`;

export async function followRun(input: RuleRunInput): Promise<RuleRunResult> {
  const { rule } = input;
  const inbox: FollowMessage[] = [];
  const late: string[] = [];
  let sending = false;
  let event = input.event;
  setHandler(followSignal, (m) => {
    if (!sending) inbox.push(m);
    else if (m.event.id !== event.id)
      late.push(
        `${m.as === 'cancel' ? 'cancel' : 'update'} by ${describe(m.event)} came too late: delivery had started`,
      );
  });

  const plan = (e: RunEvent, previous: { event: RunEvent; sendAt: string } | null) =>
    planSend.executeWithOptions({ summary: previous ? `reschedule for ${e.name}` : 'compute send time' }, [
      { accountId: input.accountId, ruleId: rule.id, event: e, now: new Date().toISOString(), previous },
    ]);
  const skipped = (reason: string): RuleRunResult => {
    setCurrentDetails(`Skipped: ${reason}`);
    return { outcome: 'skipped', ruleId: rule.id, ruleVersion: null, reason, actions: [] };
  };

  // A retry of a failed run delivers at once: its send time has passed.
  let current: Extract<SendPlan, { status: 'planned' }> | null = null;
  if (!input.retryOf) {
    const first = await plan(event, null);
    if (first.status !== 'planned') return skipped(first.reason);
    current = first;
  }
  while (current) {
    // Signals first: the start event's own signal (signal-with-start) is dropped as a repeat.
    const m = inbox.shift();
    if (m) {
      if (m.as === 'cancel') {
        const reason = `cancelled by ${describe(m.event)}`;
        setCurrentDetails(`Cancelled: ${reason}.`);
        return { outcome: 'cancelled', ruleId: rule.id, ruleVersion: null, reason, actions: [] };
      }
      if (m.event.id === event.id) continue;
      const next = await plan(m.event, { event, sendAt: current.sendAt });
      if (next.status === 'stale') continue;
      if (next.status === 'skip') return skipped(next.reason);
      [event, current] = [m.event, next];
      continue;
    }
    const waitMs = Date.parse(current.sendAt) - Date.now();
    if (waitMs <= 0) break;
    setCurrentDetails(`Waiting: ${current.text}. Then checking rule ${rule.name}.`);
    const signalled = await condition(() => inbox.length > 0, waitMs, {
      summary: current.window
        ? `wait for the window (${current.window.timezone})`
        : `wait until ${current.sendAt}`,
    });
    if (!signalled) break;
  }
  sending = true;
  const result = await deliver(input, event);
  return late.length ? { ...result, reason: late.join('; ') } : result;
}
