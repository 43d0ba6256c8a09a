/**
 * Timeline entries read from a run's markers and its close: the rules an event matched, the send time
 * planned, the rule re-read with each condition, and the outcome.
 */
import type { History } from '@temporalio/common/lib/proto-utils';
import type {
  EventWorkflowResult,
  MatchedRule,
  PreparedRun,
  RuleRunInput,
  RuleRunResult,
  SendPlan,
} from '../../shared/run-types';
import { messageOf, type PayloadDecoder } from './history-values';
import type { FailureInfo, TimelineEntry } from './schemas';
import type { DecodedRun } from './timeline';
import { ATTEMPT_BLANKS } from './timeline-activities';

type HistoryEvent = NonNullable<History['events']>[number];

function outcomeMessage(r: RuleRunResult | undefined): string | null {
  if (!r) return null;
  if (r.outcome === 'conditions_not_met') return 'conditions not met: nothing sent';
  if (r.outcome === 'sent') {
    // Suppressed actions are part of a completed run; say how many were not sent.
    const suppressed = r.actions.filter((a) => a.outcome === 'suppressed').length;
    const sent = r.actions.length - suppressed;
    return suppressed ? `sent ${sent} action(s), ${suppressed} suppressed` : `sent ${sent} action(s)`;
  }
  return null;
}

/** What a planSend marker says: the send time computed or moved, a stale event, the window, a skip. */
export function sendPlanEntries(p: SendPlan | undefined, at: string | null): TimelineEntry[] {
  if (!p) return [];
  if (p.status === 'stale') return [{ type: 'stale_update_ignored', at, reason: p.reason }];
  if (p.status === 'skip') return [{ type: 'send_time_skipped', at, reason: p.reason }];
  const out: TimelineEntry[] = [
    p.rescheduled
      ? { type: 'rescheduled', at, from: p.rescheduled.from, to: p.sendAt, byEvent: p.rescheduled.byEvent }
      : { type: 'send_time_computed', at, sendAt: p.sendAt, dueAt: p.dueAt, basis: p.basis },
  ];
  if (p.window) out.push({ type: 'window_wait', at, until: p.window.opensAt, timezone: p.window.timezone });
  return out;
}

export function rulesMatched(rules: MatchedRule[], at: string | null, f: FailureInfo | null): TimelineEntry {
  return {
    type: 'rules_matched',
    at,
    rules: rules.map((r) => ({ ruleId: r.id, ruleName: r.name, ruleVersion: r.version, delay: r.delayText })),
    error: f?.message ?? null,
  };
}

export function preparedEntries(
  p: PreparedRun,
  at: string | null,
  input: RuleRunInput | null,
): TimelineEntry[] {
  if (!p) return [];
  if (p.status === 'skipped') {
    return [
      {
        type: 'rule_reread',
        at,
        outcome: 'skipped',
        ruleVersion: null,
        ruleName: null,
        versionChanged: false,
        reason: p.reason,
      },
    ];
  }
  const out: TimelineEntry[] = [
    {
      type: 'rule_reread',
      at,
      outcome: 'current',
      ruleVersion: p.ruleVersion,
      ruleName: p.ruleName,
      versionChanged: input ? p.ruleVersion !== input.rule.version : false,
      reason: null,
    },
  ];
  for (const c of p.conditions) {
    out.push({
      type: 'condition',
      at,
      fact: c.fact,
      path: c.path,
      operator: c.operator,
      value: c.value,
      factValue: c.factValue,
      result: c.result,
    });
  }
  out.push({ type: 'conditions_evaluated', at, matched: p.matched, userFound: p.userFound });
  // Actions that could not be rendered fail without an activity.
  for (const a of p.actions) {
    if ('error' in a) {
      out.push({
        type: 'action_attempt',
        ...ATTEMPT_BLANKS,
        at,
        actionIndex: a.index,
        actionType: a.type,
        activityType: null,
        summary: null,
        attempt: 0,
        outcome: 'failed',
        error: a.error,
        errorType: 'NotRendered',
      });
    }
  }
  return out;
}

/** Whether this event closes the run (its open activities are then abandoned). */
export const closesRun = (e: HistoryEvent): boolean =>
  Boolean(
    e.workflowExecutionCompletedEventAttributes ||
    e.workflowExecutionFailedEventAttributes ||
    e.workflowExecutionCanceledEventAttributes ||
    e.workflowExecutionTerminatedEventAttributes ||
    e.workflowExecutionTimedOutEventAttributes ||
    e.workflowExecutionContinuedAsNewEventAttributes,
  );

/** The outcome entry of a run's closing event; sets the run's result or error from it. */
export async function outcomeEntry(
  e: HistoryEvent,
  run: DecodedRun,
  at: string | null,
  decode: PayloadDecoder,
): Promise<TimelineEntry | null> {
  if (e.workflowExecutionCompletedEventAttributes) {
    const result = await decode(e.workflowExecutionCompletedEventAttributes.result?.payloads?.[0]);
    run.result = result ?? null;
    if (run.kind === 'rule-run') {
      const r = result as RuleRunResult;
      return {
        type: 'outcome',
        at,
        status: 'completed',
        outcome: r?.outcome ?? 'completed',
        message: r?.reason ?? outcomeMessage(r),
      };
    }
    const r = result as EventWorkflowResult | undefined;
    const n = r?.matchedRules?.length ?? 0;
    return {
      type: 'outcome',
      at,
      status: 'completed',
      outcome: 'completed',
      message: r ? (n ? `started ${n} rule run(s)` : 'no enabled rule for this event') : null,
    };
  }
  if (e.workflowExecutionFailedEventAttributes) {
    const failure = e.workflowExecutionFailedEventAttributes.failure;
    const details = await decode(failure?.applicationFailureInfo?.details?.payloads?.[0]);
    const type = failure?.applicationFailureInfo?.type ?? null;
    const message = await messageOf(failure, decode);
    run.error = { type, message: message ?? '' };
    if (details && typeof details === 'object' && 'outcome' in details) run.result = details;
    return {
      type: 'outcome',
      at,
      status: 'failed',
      outcome: type === 'ActionsFailed' ? 'failed' : 'error',
      message,
    };
  }
  if (e.workflowExecutionCanceledEventAttributes) {
    return { type: 'outcome', at, status: 'cancelled', outcome: 'cancelled', message: null };
  }
  if (e.workflowExecutionTerminatedEventAttributes) {
    const reason = e.workflowExecutionTerminatedEventAttributes.reason || null;
    run.error = { type: 'Terminated', message: reason ?? 'terminated' };
    return { type: 'outcome', at, status: 'terminated', outcome: 'terminated', message: reason };
  }
  if (e.workflowExecutionTimedOutEventAttributes) {
    run.error = { type: 'Timeout', message: 'the run exceeded its execution timeout' };
    return { type: 'outcome', at, status: 'timed_out', outcome: 'timed_out', message: run.error.message };
  }
  if (e.workflowExecutionContinuedAsNewEventAttributes) {
    return { type: 'outcome', at, status: 'continued_as_new', outcome: 'continued_as_new', message: null };
  }
  return null;
}
