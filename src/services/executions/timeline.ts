/**
 * A run's timeline, decoded from its workflow history (plus describe() for activities in flight). The
 * same code reads a history fetched from the server and one exported with `temporal workflow show`.
 */
import type { History } from '@temporalio/common/lib/proto-utils';
import { z } from 'zod';
import { FOLLOW_SIGNAL, workflowIds } from '../../shared/constants';
import type {
  EventWorkflowInput,
  FollowMessage,
  MatchedRule,
  PreparedRun,
  RuleRunInput,
  SendPlan,
  StartedRuleRun,
} from '../../shared/run-types';
import {
  decodeAll,
  decodeFailure,
  durMs,
  iso,
  kindOf,
  str,
  tsMs,
  type PayloadDecoder,
  type PendingActivity,
} from './history-values';
import type { ExecutionKind, TimelineEntry, eventSchemaOut } from './schemas';
import {
  abandonedEntries,
  completedEntry,
  endedEntries,
  pendingEntries,
  previousAttempt,
  type ActivityState,
} from './timeline-activities';
import { closesRun, outcomeEntry, preparedEntries, rulesMatched, sendPlanEntries } from './timeline-entries';

type HistoryEvent = NonNullable<History['events']>[number];

export interface DecodedRun {
  workflowType: string;
  kind: ExecutionKind;
  input: RuleRunInput | EventWorkflowInput | null;
  event: z.infer<typeof eventSchemaOut> | null;
  memo: Record<string, unknown>;
  parentWorkflowId: string | null;
  /** RuleRunResult (also from an ActionsFailed failure) or EventWorkflowResult. */
  result: unknown;
  error: { type: string | null; message: string } | null;
  /** The version the run used: the re-read one when it got that far, else the matched one. */
  ruleVersion: number | null;
  children: { workflowId: string; ruleId: string | null; ruleName: string | null }[];
  timeline: TimelineEntry[];
}

/**
 * Reads one run's history into its timeline. Pure apart from payload decoding, so it works the same on
 * a history fetched from the server and on one exported with `temporal workflow show -o json`.
 */
export async function decodeHistory(
  history: History,
  decode: PayloadDecoder,
  pending: PendingActivity[] = [],
): Promise<DecodedRun> {
  const events: HistoryEvent[] = history.events ?? [];
  const timeline: TimelineEntry[] = [];
  const run: DecodedRun = {
    workflowType: '',
    kind: 'other',
    input: null,
    event: null,
    memo: {},
    parentWorkflowId: null,
    result: null,
    error: null,
    ruleVersion: null,
    children: [],
    timeline,
  };
  const activities = new Map<string, ActivityState>(); // by scheduled event id
  const timers = new Map<string, { plannedEndAt: number }>(); // by started event id
  const childInitiated = new Map<
    string,
    { workflowId: string; ruleId: string | null; ruleName: string | null }
  >();
  let ruleInput: RuleRunInput | null = null;
  /** A keyed or timed run's latest planned send time (its planSend markers). */
  let plannedSendAt: string | null = null;

  /** A rule with a delay whose run set no timer: the delay had passed when it started (a retry, a backlog). */
  const delayAlreadyElapsed = (at: string | null): TimelineEntry[] =>
    ruleInput && ruleInput.rule.delayMs > 0 && !timers.size
      ? [
          {
            type: 'delay_already_elapsed',
            at,
            delay: ruleInput.rule.delayText,
            plannedEndAt: new Date(
              Date.parse(ruleInput.event.receivedAt) + ruleInput.rule.delayMs,
            ).toISOString(),
          },
        ]
      : [];
  const prepared = (p: PreparedRun, at: string | null) => {
    timeline.push(...preparedEntries(p, at, ruleInput));
    if (p?.status === 'ready') run.ruleVersion = p.ruleVersion;
  };
  /** A local activity that failed leaves only its marker's failure. */
  const localActivityFailed = (
    activityType: string,
    summary: string | null,
    at: string | null,
    error: string,
  ) => timeline.push({ type: 'activity', at, activityType, summary, attempt: 1, outcome: 'failed', error });

  for (const e of events) {
    const at = tsMs(e.eventTime);
    const atIso = iso(at);
    if (closesRun(e)) {
      for (const a of activities.values()) timeline.push(...abandonedEntries(a, atIso));
      activities.clear();
    }
    const summary = str(await decode(e.userMetadata?.summary));

    if (e.workflowExecutionStartedEventAttributes) {
      const s = e.workflowExecutionStartedEventAttributes;
      run.workflowType = s.workflowType?.name ?? '';
      run.kind = kindOf(run.workflowType);
      run.parentWorkflowId = s.parentWorkflowExecution?.workflowId ?? null;
      for (const [k, p] of Object.entries(s.memo?.fields ?? {})) run.memo[k] = await decode(p);
      const input = (await decode(s.input?.payloads?.[0])) as RuleRunInput | EventWorkflowInput | undefined;
      run.input = input ?? null;
      const ev = input?.event;
      if (ev) {
        run.event = {
          name: ev.name,
          id: ev.id,
          occurredAt: ev.occurredAt ?? null,
          receivedAt: ev.receivedAt ?? null,
          userId: ev.userId ?? null,
          payload: ev.payload ?? {},
        };
        timeline.push({
          type: 'event_received',
          at: ev.receivedAt ?? atIso,
          eventName: ev.name,
          eventId: ev.id,
          occurredAt: ev.occurredAt ?? null,
          userId: ev.userId ?? null,
        });
      }
      if (run.kind === 'rule-run' && input && 'rule' in input) {
        ruleInput = input;
        run.ruleVersion = input.rule.version;
        // Runs started by the event's startRuleRuns activity have no parent link: their id says whose they are.
        if (!run.parentWorkflowId && !input.retryOf)
          run.parentWorkflowId = workflowIds.event(input.accountId, input.event.id);
        timeline.push({
          type: 'rule_matched',
          at: atIso,
          ruleId: input.rule.id,
          ruleName: input.rule.name,
          ruleVersion: input.rule.version,
          delay: input.rule.delayText,
          delayMs: input.rule.delayMs,
          retryOf: input.retryOf ?? null,
        });
      }
    } else if (e.markerRecordedEventAttributes) {
      // A local activity leaves a marker with its result (or its final failure).
      const m = e.markerRecordedEventAttributes;
      const meta = (await decode(m.details?.data?.payloads?.[0])) as { activity_type?: string } | undefined;
      const result = await decode(m.details?.result?.payloads?.[0]);
      const f = await decodeFailure(m.failure, decode);
      if (meta?.activity_type === 'findRulesForEvent') {
        timeline.push(rulesMatched((result ?? []) as MatchedRule[], atIso, f));
      } else if (meta?.activity_type === 'startRuleRuns') {
        const started = (result ?? []) as StartedRuleRun[];
        for (const { rule, workflowId, runId, action } of started) {
          if (workflowId) run.children.push({ workflowId, ruleId: rule.id, ruleName: rule.name });
          timeline.push({
            type: 'rule_run_started',
            at: atIso,
            ruleId: rule.id,
            ruleName: rule.name,
            workflowId,
            runId,
            error: null,
            ...(action && { action }),
          });
        }
      } else if (meta?.activity_type === 'planSend') {
        if (f) localActivityFailed('planSend', summary, atIso, f.message);
        else {
          timeline.push(...sendPlanEntries(result as SendPlan, atIso));
          if ((result as SendPlan)?.status === 'planned')
            plannedSendAt = (result as { sendAt: string }).sendAt;
        }
      } else if (meta?.activity_type === 'prepareRun') {
        timeline.push(...delayAlreadyElapsed(atIso));
        if (f) localActivityFailed('prepareRun', summary, atIso, f.message);
        else prepared(result as PreparedRun, atIso);
      }
    } else if (e.startChildWorkflowExecutionInitiatedEventAttributes) {
      const c = e.startChildWorkflowExecutionInitiatedEventAttributes;
      const input = (await decode(c.input?.payloads?.[0])) as RuleRunInput | undefined;
      const child = {
        workflowId: c.workflowId ?? '',
        ruleId: input?.rule?.id ?? null,
        ruleName: input?.rule?.name ?? null,
      };
      childInitiated.set(String(e.eventId), child);
      run.children.push(child);
    } else if (e.childWorkflowExecutionStartedEventAttributes) {
      const c = e.childWorkflowExecutionStartedEventAttributes;
      const child = childInitiated.get(String(c.initiatedEventId));
      timeline.push({
        type: 'rule_run_started',
        at: atIso,
        ruleId: child?.ruleId ?? null,
        ruleName: child?.ruleName ?? null,
        workflowId: c.workflowExecution?.workflowId ?? child?.workflowId ?? '',
        runId: c.workflowExecution?.runId ?? null,
        error: null,
      });
    } else if (e.startChildWorkflowExecutionFailedEventAttributes) {
      const c = e.startChildWorkflowExecutionFailedEventAttributes;
      const child = childInitiated.get(String(c.initiatedEventId));
      timeline.push({
        type: 'rule_run_started',
        at: atIso,
        ruleId: child?.ruleId ?? null,
        ruleName: child?.ruleName ?? null,
        workflowId: c.workflowId ?? child?.workflowId ?? '',
        runId: null,
        error:
          c.cause === 1 ? 'a run with this workflow id already exists' : `start failed (cause ${c.cause})`,
      });
    } else if (e.timerStartedEventAttributes) {
      const t = e.timerStartedEventAttributes;
      const remainingMs = durMs(t.startToFireTimeout);
      // A keyed or timed run's timer ends at its planned send time, not at ingest plus a delay.
      const perEvent = ruleInput && !ruleInput.rule.follow ? ruleInput : null;
      const received = perEvent ? Date.parse(perEvent.event.receivedAt) : NaN;
      const plannedEndAt =
        perEvent && Number.isFinite(received)
          ? received + perEvent.rule.delayMs
          : plannedSendAt
            ? Date.parse(plannedSendAt)
            : (at ?? 0) + remainingMs;
      timers.set(String(e.eventId), { plannedEndAt });
      timeline.push({
        type: 'delay_started',
        at: atIso,
        delay: perEvent?.rule.delayText ?? summary ?? `${remainingMs} ms`,
        delayMs: perEvent?.rule.delayMs ?? remainingMs,
        remainingMs,
        plannedEndAt: new Date(plannedEndAt).toISOString(),
      });
    } else if (e.timerFiredEventAttributes || e.timerCanceledEventAttributes) {
      const startedId = String(
        e.timerFiredEventAttributes?.startedEventId ?? e.timerCanceledEventAttributes?.startedEventId,
      );
      const planned = timers.get(startedId)?.plannedEndAt ?? null;
      timeline.push({
        type: 'delay_ended',
        at: atIso,
        plannedEndAt: iso(planned),
        actualEndAt: atIso,
        lateByMs: planned !== null && at !== null ? at - planned : null,
        cancelled: Boolean(e.timerCanceledEventAttributes),
      });
    } else if (e.activityTaskScheduledEventAttributes) {
      const s = e.activityTaskScheduledEventAttributes;
      const activityType = s.activityType?.name ?? '';
      if (activityType === 'prepareRun') timeline.push(...delayAlreadyElapsed(atIso));
      activities.set(String(e.eventId), {
        activityId: s.activityId ?? '',
        activityType,
        summary,
        input: await decodeAll(s.input?.payloads, decode),
        scheduledAt: at,
        startedAt: null,
        attempt: 1,
        lastFailure: null,
        cancelRequested: false,
      });
    } else if (e.activityTaskCancelRequestedEventAttributes) {
      const a = activities.get(String(e.activityTaskCancelRequestedEventAttributes.scheduledEventId));
      if (a) a.cancelRequested = true;
    } else if (e.activityTaskStartedEventAttributes) {
      const s = e.activityTaskStartedEventAttributes;
      const a = activities.get(String(s.scheduledEventId));
      if (a) {
        a.startedAt = at;
        a.attempt = s.attempt ?? 1;
        a.lastFailure = await decodeFailure(s.lastFailure, decode);
      }
    } else if (e.activityTaskCompletedEventAttributes) {
      const c = e.activityTaskCompletedEventAttributes;
      const a = activities.get(String(c.scheduledEventId));
      if (!a) continue;
      activities.delete(String(c.scheduledEventId));
      const result = await decode(c.result?.payloads?.[0]);
      timeline.push(...previousAttempt(a));
      if (a.activityType === 'prepareRun') prepared(result as PreparedRun, atIso);
      else timeline.push(completedEntry(a, result, atIso));
    } else if (
      e.activityTaskFailedEventAttributes ||
      e.activityTaskTimedOutEventAttributes ||
      e.activityTaskCanceledEventAttributes
    ) {
      const scheduledId =
        e.activityTaskFailedEventAttributes?.scheduledEventId ??
        e.activityTaskTimedOutEventAttributes?.scheduledEventId ??
        e.activityTaskCanceledEventAttributes?.scheduledEventId;
      const a = activities.get(String(scheduledId));
      if (!a) continue;
      activities.delete(String(scheduledId));
      const f = await decodeFailure(
        e.activityTaskFailedEventAttributes?.failure ?? e.activityTaskTimedOutEventAttributes?.failure,
        decode,
      );
      const outcome = e.activityTaskFailedEventAttributes
        ? 'failed'
        : e.activityTaskTimedOutEventAttributes
          ? 'timed_out'
          : 'cancelled';
      timeline.push(...endedEntries(a, outcome, f, atIso));
    } else if (e.workflowExecutionSignaledEventAttributes?.signalName === FOLLOW_SIGNAL) {
      const m = (await decode(e.workflowExecutionSignaledEventAttributes.input?.payloads?.[0])) as
        FollowMessage | undefined;
      if (m?.event)
        timeline.push({
          type: 'follow_event',
          at: atIso,
          as: m.as,
          eventName: m.event.name,
          eventId: m.event.id,
          occurredAt: m.event.occurredAt ?? null,
        });
    } else if (e.workflowExecutionCancelRequestedEventAttributes) {
      const c = e.workflowExecutionCancelRequestedEventAttributes;
      timeline.push({
        type: 'cancel_requested',
        at: atIso,
        identity: c.identity || null,
        reason: c.cause || null,
      });
    } else {
      const outcome = await outcomeEntry(e, run, atIso, decode);
      if (outcome) timeline.push(outcome);
    }
  }

  const pendingById = new Map(pending.map((p) => [p.activityId, p]));
  for (const a of activities.values()) timeline.push(...pendingEntries(a, pendingById.get(a.activityId)));
  return run;
}
