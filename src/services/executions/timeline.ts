/**
 * A run's timeline, decoded from its workflow history (plus describe() for activities in flight). The
 * same code reads a history fetched from the server and one exported with `temporal workflow show`.
 */
import type { DescribeWorkflowExecutionResponse } from '@temporalio/client';
import type { LoadedDataConverter, Payload, ProtoFailure } from '@temporalio/common';
import type { History } from '@temporalio/common/lib/proto-utils';
import { z } from 'zod';
import { FOLLOW_SIGNAL, WORKFLOW_TYPES, workflowIds } from '../../shared/constants';
import type {
  EventWorkflowInput,
  EventWorkflowResult,
  FollowMessage,
  MatchedRule,
  PreparedRun,
  RuleRunInput,
  RuleRunResult,
  SendPlan,
  StartedRuleRun,
} from '../../shared/run-types';
import { ExecutionKind, ExecutionStatus, FailureInfo, TimelineEntry, eventSchemaOut } from './schemas';

type HistoryEvent = NonNullable<History['events']>[number];
type Timestamp = { seconds?: unknown; nanos?: number | null } | null | undefined;
type Duration = Timestamp;

export type PayloadDecoder = (payload: Payload | null | undefined) => Promise<unknown>;

/** Decodes with the client's data converter: its codecs (none by default), then its payload converter. */
export function payloadDecoder(dc: LoadedDataConverter): PayloadDecoder {
  return async (payload) => {
    if (!payload) return undefined;
    let payloads = [payload];
    for (const codec of [...dc.payloadCodecs].reverse()) payloads = await codec.decode(payloads);
    return dc.payloadConverter.fromPayload(payloads[0]);
  };
}

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(String(v)));

export function tsMs(ts: Timestamp): number | null {
  if (!ts || ts.seconds === undefined || ts.seconds === null) return null;
  return num(ts.seconds) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
}
export const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const durMs = (d: Duration): number => (d ? num(d.seconds) * 1000 + Math.round((d.nanos ?? 0) / 1e6) : 0);

const STATUS_BY_CODE: Record<number, ExecutionStatus> = {
  1: 'running',
  2: 'completed',
  3: 'failed',
  4: 'cancelled',
  5: 'terminated',
  6: 'continued_as_new',
  7: 'timed_out',
};
/** temporal.api.enums.v1.WorkflowExecutionStatus → our names. */
export const statusFromCode = (code: number | null | undefined): ExecutionStatus =>
  STATUS_BY_CODE[code ?? 0] ?? 'unknown';

export function kindOf(workflowType: string | null | undefined): ExecutionKind {
  if (workflowType === WORKFLOW_TYPES.event) return 'event';
  if (workflowType === WORKFLOW_TYPES.ruleRun) return 'rule-run';
  if (workflowType === WORKFLOW_TYPES.scheduledTick) return 'scheduled-tick';
  return 'other';
}

export const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
export const int = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) ? v : null);

/** A failure's message, from its encoded (encrypted) attributes when the worker put it there. */
async function messageOf(f: ProtoFailure | null | undefined, decode: PayloadDecoder): Promise<string | null> {
  if (!f) return null;
  if (f.encodedAttributes) {
    const attrs = (await decode(f.encodedAttributes).catch(() => undefined)) as
      { message?: unknown } | undefined;
    if (typeof attrs?.message === 'string') return attrs.message;
  }
  return f.message ?? null;
}

async function decodeFailure(
  f: ProtoFailure | null | undefined,
  decode: PayloadDecoder,
): Promise<FailureInfo | null> {
  if (!f) return null;
  // An activity timeout wraps the last application failure as its cause; report the most specific one.
  const app = f.applicationFailureInfo ? f : f.cause?.applicationFailureInfo ? f.cause : null;
  const details = app ? await decode(app.applicationFailureInfo?.details?.payloads?.[0]) : undefined;
  const d = (details && typeof details === 'object' ? details : {}) as Record<string, unknown>;
  const type =
    app?.applicationFailureInfo?.type ??
    (f.timeoutFailureInfo ? 'Timeout' : f.canceledFailureInfo ? 'Cancelled' : null) ??
    null;
  const own = await messageOf(f, decode);
  const message =
    f.timeoutFailureInfo && app && app !== f ? `${own ?? 'timed out'}: ${await messageOf(app, decode)}` : own;
  return {
    message: message ?? '',
    type,
    nonRetryable: Boolean(app?.applicationFailureInfo?.nonRetryable),
    status: int(d.status),
    code: typeof d.code === 'string' || typeof d.code === 'number' ? d.code : null,
    responseBody: str(d.body),
  };
}

/** The decoded pending activity of a still-running workflow, from describe(). */
export interface PendingActivity {
  activityId: string;
  activityType: string;
  state: 'scheduled' | 'started' | 'cancel_requested' | 'paused' | 'unknown';
  attempt: number;
  lastFailure: FailureInfo | null;
  lastStartedAt: string | null;
  lastAttemptCompletedAt: string | null;
  nextAttemptAt: string | null;
}

export async function decodePendingActivities(
  raw: DescribeWorkflowExecutionResponse,
  decode: PayloadDecoder,
): Promise<PendingActivity[]> {
  const states = ['unknown', 'scheduled', 'started', 'cancel_requested', 'paused', 'paused'] as const;
  return Promise.all(
    (raw.pendingActivities ?? []).map(async (p) => ({
      activityId: p.activityId ?? '',
      activityType: p.activityType?.name ?? '',
      state: states[p.state ?? 0] ?? 'unknown',
      attempt: p.attempt ?? 1,
      lastFailure: await decodeFailure(p.lastFailure, decode),
      lastStartedAt: iso(tsMs(p.lastStartedTime)),
      lastAttemptCompletedAt: iso(tsMs(p.lastAttemptCompleteTime)),
      nextAttemptAt: iso(tsMs(p.nextAttemptScheduleTime)),
    })),
  );
}

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

const SEND_ACTIVITIES = new Set(['sendSms', 'sendEmail', 'sendWebhook']);

interface ActivityState {
  activityId: string;
  activityType: string;
  summary: string | null;
  input: unknown[];
  scheduledAt: number | null;
  startedAt: number | null;
  attempt: number;
  lastFailure: FailureInfo | null;
  cancelRequested: boolean;
}

async function decodeAll(payloads: Payload[] | null | undefined, decode: PayloadDecoder): Promise<unknown[]> {
  return Promise.all((payloads ?? []).map((p) => decode(p)));
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

  const actionAttempt = (
    a: ActivityState,
    fields: Partial<Extract<TimelineEntry, { type: 'action_attempt' }>> &
      Pick<Extract<TimelineEntry, { type: 'action_attempt' }>, 'attempt' | 'outcome' | 'at'>,
  ): TimelineEntry => {
    const ctx = (a.input[0] ?? {}) as { actionIndex?: number };
    const action = (a.input[1] ?? {}) as { type?: string };
    return {
      type: 'action_attempt',
      startedAt: null,
      actionIndex: ctx.actionIndex ?? -1,
      actionType: action.type ?? a.activityType.replace(/^send/, '').toLowerCase(),
      activityType: a.activityType,
      summary: a.summary,
      error: null,
      errorType: null,
      status: null,
      errorCode: null,
      responseBody: null,
      providerId: null,
      via: null,
      nextAttemptAt: null,
      ...fields,
    };
  };
  const failed = (f: FailureInfo | null) => ({
    error: f?.message ?? null,
    errorType: f?.type ?? null,
    status: f?.status ?? null,
    errorCode: f?.code ?? null,
    responseBody: f?.responseBody ?? null,
  });
  /** The attempt before the last one, known only through the last one's `lastFailure`. */
  const previousAttempt = (a: ActivityState): TimelineEntry[] => {
    if (!a.lastFailure || a.attempt < 2) return [];
    if (SEND_ACTIVITIES.has(a.activityType)) {
      return [
        actionAttempt(a, { at: null, attempt: a.attempt - 1, outcome: 'retried', ...failed(a.lastFailure) }),
      ];
    }
    return [
      {
        type: 'activity',
        at: null,
        activityType: a.activityType,
        summary: a.summary,
        attempt: a.attempt - 1,
        outcome: 'retried',
        error: a.lastFailure.message,
      },
    ];
  };

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

  /** Activities a closed run left behind (cancelled or terminated while one was retrying). */
  const abandonOpenActivities = (at: string | null) => {
    for (const a of activities.values()) {
      const error = a.cancelRequested
        ? 'cancelled with the run'
        : 'the run ended before this activity finished';
      timeline.push(...previousAttempt(a));
      if (SEND_ACTIVITIES.has(a.activityType)) {
        timeline.push(
          actionAttempt(a, {
            at,
            startedAt: iso(a.startedAt),
            attempt: a.attempt,
            outcome: 'cancelled',
            error,
          }),
        );
      } else {
        timeline.push({
          type: 'activity',
          at,
          activityType: a.activityType,
          summary: a.summary,
          attempt: a.attempt,
          outcome: 'cancelled',
          error,
        });
      }
    }
    activities.clear();
  };

  /** A keyed or timed run's latest planned send time (its planSend markers). */
  let plannedSendAt: string | null = null;
  for (const e of events) {
    const at = tsMs(e.eventTime);
    const atIso = iso(at);
    if (
      e.workflowExecutionCompletedEventAttributes ||
      e.workflowExecutionFailedEventAttributes ||
      e.workflowExecutionCanceledEventAttributes ||
      e.workflowExecutionTerminatedEventAttributes ||
      e.workflowExecutionTimedOutEventAttributes ||
      e.workflowExecutionContinuedAsNewEventAttributes
    ) {
      abandonOpenActivities(atIso);
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
        if (f)
          timeline.push({
            type: 'activity',
            at: atIso,
            activityType: 'planSend',
            summary,
            attempt: 1,
            outcome: 'failed',
            error: f.message,
          });
        else {
          timeline.push(...sendPlanEntries(result as SendPlan, atIso));
          if ((result as SendPlan)?.status === 'planned')
            plannedSendAt = (result as { sendAt: string }).sendAt;
        }
      } else if (meta?.activity_type === 'prepareRun') {
        timeline.push(...delayAlreadyElapsed(atIso));
        if (f) {
          timeline.push({
            type: 'activity',
            at: atIso,
            activityType: 'prepareRun',
            summary,
            attempt: 1,
            outcome: 'failed',
            error: f.message,
          });
        } else {
          timeline.push(...preparedEntries(result as PreparedRun, atIso, ruleInput));
          const p = result as PreparedRun;
          if (p?.status === 'ready') run.ruleVersion = p.ruleVersion;
        }
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
      if (a.activityType === 'prepareRun') {
        timeline.push(...preparedEntries(result as PreparedRun, atIso, ruleInput));
        const p = result as PreparedRun;
        if (p?.status === 'ready') run.ruleVersion = p.ruleVersion;
      } else if (SEND_ACTIVITIES.has(a.activityType)) {
        const r = (result ?? {}) as {
          providerId?: string | null;
          via?: string;
          status?: number;
          attempts?: number;
          reason?: string;
        };
        const suppressed = r.via === 'suppressed';
        timeline.push(
          actionAttempt(a, {
            at: atIso,
            startedAt: iso(a.startedAt),
            attempt: a.attempt,
            outcome: suppressed ? 'suppressed' : 'sent',
            status: int(r.status),
            providerId: r.providerId ?? null,
            via: r.via ?? null,
            ...(suppressed && { reason: r.reason ?? 'recipient opted out' }),
          }),
        );
      } else {
        timeline.push({
          type: 'activity',
          at: atIso,
          activityType: a.activityType,
          summary: a.summary,
          attempt: a.attempt,
          outcome: 'completed',
          error: null,
        });
      }
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
      timeline.push(...previousAttempt(a));
      if (SEND_ACTIVITIES.has(a.activityType)) {
        timeline.push(
          actionAttempt(a, {
            at: atIso,
            startedAt: iso(a.startedAt),
            attempt: a.attempt,
            outcome,
            ...failed(f ?? (outcome === 'cancelled' ? { ...NO_FAILURE, message: 'cancelled' } : null)),
          }),
        );
      } else {
        timeline.push({
          type: 'activity',
          at: atIso,
          activityType: a.activityType,
          summary: a.summary,
          attempt: a.attempt,
          outcome,
          error: f?.message ?? null,
        });
      }
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
    } else if (e.workflowExecutionCompletedEventAttributes) {
      const result = await decode(e.workflowExecutionCompletedEventAttributes.result?.payloads?.[0]);
      run.result = result ?? null;
      if (run.kind === 'rule-run') {
        const r = result as RuleRunResult;
        timeline.push({
          type: 'outcome',
          at: atIso,
          status: 'completed',
          outcome: r?.outcome ?? 'completed',
          message: r?.reason ?? outcomeMessage(r),
        });
      } else {
        const r = result as EventWorkflowResult | undefined;
        const n = r?.matchedRules?.length ?? 0;
        timeline.push({
          type: 'outcome',
          at: atIso,
          status: 'completed',
          outcome: 'completed',
          message: r ? (n ? `started ${n} rule run(s)` : 'no enabled rule for this event') : null,
        });
      }
    } else if (e.workflowExecutionFailedEventAttributes) {
      const failure = e.workflowExecutionFailedEventAttributes.failure;
      const details = await decode(failure?.applicationFailureInfo?.details?.payloads?.[0]);
      const type = failure?.applicationFailureInfo?.type ?? null;
      const message = await messageOf(failure, decode);
      run.error = { type, message: message ?? '' };
      if (details && typeof details === 'object' && 'outcome' in details) run.result = details;
      timeline.push({
        type: 'outcome',
        at: atIso,
        status: 'failed',
        outcome: type === 'ActionsFailed' ? 'failed' : 'error',
        message,
      });
    } else if (e.workflowExecutionCanceledEventAttributes) {
      timeline.push({ type: 'outcome', at: atIso, status: 'cancelled', outcome: 'cancelled', message: null });
    } else if (e.workflowExecutionTerminatedEventAttributes) {
      const reason = e.workflowExecutionTerminatedEventAttributes.reason || null;
      run.error = { type: 'Terminated', message: reason ?? 'terminated' };
      timeline.push({
        type: 'outcome',
        at: atIso,
        status: 'terminated',
        outcome: 'terminated',
        message: reason,
      });
    } else if (e.workflowExecutionTimedOutEventAttributes) {
      run.error = { type: 'Timeout', message: 'the run exceeded its execution timeout' };
      timeline.push({
        type: 'outcome',
        at: atIso,
        status: 'timed_out',
        outcome: 'timed_out',
        message: run.error.message,
      });
    } else if (e.workflowExecutionContinuedAsNewEventAttributes) {
      timeline.push({
        type: 'outcome',
        at: atIso,
        status: 'continued_as_new',
        outcome: 'continued_as_new',
        message: null,
      });
    }
  }

  // Activities still in flight: history has only their scheduling; describe() knows their attempts.
  const pendingById = new Map(pending.map((p) => [p.activityId, p]));
  for (const a of activities.values()) {
    const p = pendingById.get(a.activityId);
    const attempt = p?.attempt ?? a.attempt;
    const waiting = p?.state === 'scheduled' && attempt > 1;
    const outcome = waiting ? 'backing_off' : 'running';
    if (p?.lastFailure && attempt > 1) {
      const prev = { ...a, attempt, lastFailure: p.lastFailure };
      const [entry] = previousAttempt(prev);
      if (entry) timeline.push({ ...entry, at: p.lastAttemptCompletedAt });
    }
    if (SEND_ACTIVITIES.has(a.activityType)) {
      timeline.push(
        actionAttempt(a, {
          at: p?.lastStartedAt ?? iso(a.scheduledAt),
          startedAt: p?.lastStartedAt ?? null,
          attempt,
          outcome,
          nextAttemptAt: waiting ? (p?.nextAttemptAt ?? null) : null,
        }),
      );
    } else {
      timeline.push({
        type: 'activity',
        at: p?.lastStartedAt ?? iso(a.scheduledAt),
        activityType: a.activityType,
        summary: a.summary,
        attempt,
        outcome,
        error: null,
      });
    }
  }
  return run;
}

const NO_FAILURE: FailureInfo = {
  message: '',
  type: null,
  nonRetryable: false,
  status: null,
  code: null,
  responseBody: null,
};

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
function sendPlanEntries(p: SendPlan | undefined, at: string | null): TimelineEntry[] {
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

function rulesMatched(rules: MatchedRule[], at: string | null, f: FailureInfo | null): TimelineEntry {
  return {
    type: 'rules_matched',
    at,
    rules: rules.map((r) => ({ ruleId: r.id, ruleName: r.name, ruleVersion: r.version, delay: r.delayText })),
    error: f?.message ?? null,
  };
}

function preparedEntries(p: PreparedRun, at: string | null, input: RuleRunInput | null): TimelineEntry[] {
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
        at,
        startedAt: null,
        actionIndex: a.index,
        actionType: a.type,
        activityType: null,
        summary: null,
        attempt: 0,
        outcome: 'failed',
        error: a.error,
        errorType: 'NotRendered',
        status: null,
        errorCode: null,
        responseBody: null,
        providerId: null,
        via: null,
        nextAttemptAt: null,
      });
    }
  }
  return out;
}
