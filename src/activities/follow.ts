/**
 * Rules that follow one job (`trigger.key`), or wait until a date or a window: how an event reaches
 * the (rule, key) run, and when that run sends.
 */
import { createHash } from 'node:crypto';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  type Client,
} from '@temporalio/client';
import type { DataSource } from 'typeorm';
import { windowZone } from '../services/send-time';
import { RuleService } from '../services/rules';
import { evaluateConditions } from '../shared/conditions';
import { FOLLOW_SIGNAL, SEARCH_ATTRIBUTES, WORKFLOW_TYPES, workflowIds } from '../shared/constants';
import { resolvePath } from '../shared/paths';
import { ruleRunStart } from '../shared/rule-runs';
import type { FollowMessage, MatchedRule, RunEvent, SendPlan, StartedRuleRun } from '../shared/run-types';
import type { ConditionTree, Rule } from '../shared/schemas';
import { computeSendTime } from '../shared/send-time';

const MAX_KEY_LENGTH = 200;
const PLAIN_KEY = /^[A-Za-z0-9._:-]{1,64}$/;

/** The key value a rule follows, as a string; null when the event does not carry one. */
export function keyValue(key: { fact: string; path: string }, event: RunEvent): string | null {
  const v = resolvePath(eventFacts(event)[key.fact], key.path);
  if (typeof v === 'string' && v.length > 0 && v.length <= MAX_KEY_LENGTH) return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return null;
}

/**
 * The key's part of a workflow id: the value itself when it is short and in the event-id alphabet
 * (`job_123`), else a readable prefix and a hash, so ids stay short and URL-safe for any value.
 */
export function keyIdPart(value: string): string {
  if (PLAIN_KEY.test(value)) return value;
  const hash = createHash('sha256').update(value).digest('base64url').slice(0, 16);
  return `x~${value.replace(/[^A-Za-z0-9._:-]/g, '_').slice(0, 24)}~${hash}`;
}

/** The facts an event carries without a database read: its payload's keys and `event`. */
function eventFacts(e: RunEvent): Record<string, unknown> {
  return {
    ...e.payload,
    event: { id: e.id, name: e.name, occurredAt: e.occurredAt, userId: e.userId ?? null },
  };
}

function describe(e: RunEvent) {
  return `${e.name} (event ${e.id})`;
}

/** Newer by occurredAt, then by ingest. */
function isOlder(e: RunEvent, than: RunEvent): boolean {
  const a = Date.parse(e.occurredAt);
  const b = Date.parse(than.occurredAt);
  if (a !== b) return a < b;
  return Date.parse(e.receivedAt) < Date.parse(than.receivedAt);
}

/** The plan for `event`: stale when older than the event of the plan it would replace. */
export function sendPlan(
  rule: Pick<Rule, 'delay' | 'window'>,
  event: RunEvent,
  now: number,
  tz: string,
  previous: { event: RunEvent; sendAt: string } | null,
): SendPlan {
  if (previous && isOlder(event, previous.event))
    return {
      status: 'stale',
      reason: `${describe(event)} occurred ${event.occurredAt}, before ${describe(previous.event)}: ignored`,
    };
  const t = computeSendTime(rule, event, now, tz);
  if (t.status === 'skip') return t;
  const rescheduled = previous ? { from: previous.sendAt, byEvent: describe(event) } : null;
  const parts = [
    rescheduled
      ? `rescheduled ${rescheduled.from} → ${t.sendAt} by ${rescheduled.byEvent}`
      : `send at ${t.sendAt}`,
    `(${t.basis})`,
  ];
  if (t.window) parts.push(`waiting for the window to open at ${t.window.opensAt} (${t.window.timezone})`);
  return {
    status: 'planned',
    sendAt: t.sendAt,
    dueAt: t.dueAt,
    basis: t.basis,
    window: t.window,
    rescheduled,
    text: parts.join(' '),
  };
}

export function createFollowActivities(db: DataSource, temporal: Client) {
  const rules = new RuleService(db);

  return {
    /**
     * A keyed rule's part of startRuleRuns: trigger and updateOn events signal-with-start the (rule, key)
     * run, so Temporal itself keeps one pending run per key; a cancelOn event (its conditions met)
     * only signals, and finds nothing to cancel when no run is pending. An `until` or windowed rule
     * without a key starts per event as usual.
     */
    async followEvent(
      accountId: string,
      rule: MatchedRule,
      event: RunEvent,
      taskQueue: string,
    ): Promise<StartedRuleRun> {
      const follow = rule.follow!;
      const start = ruleRunStart(accountId, rule, event);
      if (!follow.key) {
        if (follow.as !== 'trigger') return { rule, workflowId: '', runId: null, action: 'not a trigger' };
        try {
          const handle = await temporal.workflow.start(WORKFLOW_TYPES.ruleRun, {
            ...start,
            taskQueue,
            workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
            requestEagerStart: true,
          });
          return { rule, workflowId: start.workflowId, runId: handle.firstExecutionRunId };
        } catch (err) {
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
          return { rule, workflowId: start.workflowId, runId: null };
        }
      }
      const value = keyValue(follow.key, event);
      const where = `${follow.key.fact}${follow.key.path.slice(1)}`;
      if (value === null) return { rule, workflowId: '', runId: null, action: `no key: ${where} is missing` };
      const workflowId = workflowIds.keyedRun(rule.id, keyIdPart(value));
      const message: FollowMessage = { as: follow.as, event };
      if (follow.as === 'cancel') {
        if (follow.cancelConditions) {
          const { matched } = await evaluateConditions(
            follow.cancelConditions as ConditionTree,
            eventFacts(event),
          );
          if (!matched) return { rule, workflowId, runId: null, action: 'cancelOn conditions not met' };
        }
        try {
          await temporal.workflow.getHandle(workflowId).signal(FOLLOW_SIGNAL, message);
          return { rule, workflowId, runId: null, action: 'cancel sent' };
        } catch (err) {
          if (err instanceof WorkflowNotFoundError)
            return { rule, workflowId, runId: null, action: 'no pending run to cancel' };
          throw err;
        }
      }
      // A new execution when none is pending (the id may be reused once the last run has closed); the
      // run drops the signal that repeats its own start event.
      const handle = await temporal.workflow.signalWithStart(WORKFLOW_TYPES.ruleRun, {
        ...start,
        workflowId,
        taskQueue,
        typedSearchAttributes: [...start.typedSearchAttributes, { key: SEARCH_ATTRIBUTES.EntityKey, value }],
        staticSummary: `${rule.name} · ${where} ${value}`,
        signal: FOLLOW_SIGNAL,
        signalArgs: [message],
      });
      return { rule, workflowId, runId: handle.signaledRunId, action: `${follow.as} signalled` };
    },

    /**
     * When a keyed or timed run sends, for its current event. Time-zone arithmetic happens here, not in
     * workflow code: the answer is recorded in history (a marker), so a Node or tz-database upgrade
     * cannot change a replay. `now` is the workflow's time; `previous` is the plan this one replaces.
     */
    async planSend(input: {
      accountId: string;
      ruleId: string;
      event: RunEvent;
      now: string;
      previous?: { event: RunEvent; sendAt: string } | null;
    }): Promise<SendPlan> {
      const rule = await rules.find(input.accountId, input.ruleId);
      if (!rule) return { status: 'skip', reason: 'rule was deleted during the delay' };
      if (!rule.enabled) return { status: 'skip', reason: `rule was disabled (version ${rule.version})` };
      const tz = await windowZone(db, input.accountId, rule, input.event);
      return sendPlan(rule, input.event, Date.parse(input.now), tz, input.previous ?? null);
    },
  };
}
