/**
 * The execution log, read from Temporal only: visibility for lists, workflow history (plus
 * describe() for activities still in flight) for one run's timeline. There is no second log store.
 *
 * Tenancy: every visibility query carries `AccountId = '<caller>'`, and a single run is shown only
 * when its AccountId search attribute is the caller's; anything else is "not found".
 */
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  defaultPayloadConverter,
  type Client,
  type DescribeWorkflowExecutionResponse,
  type RawWorkflowExecutionInfo,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import type { LoadedDataConverter, Payload, ProtoFailure } from '@temporalio/common';
import type { History } from '@temporalio/common/lib/proto-utils';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ApiError } from '../shared/errors';
import { SEARCH_ATTRIBUTES, WORKFLOW_TYPES, workflowIds } from '../shared/constants';
import type {
  EventWorkflowInput,
  EventWorkflowResult,
  MatchedRule,
  PreparedRun,
  RuleRunInput,
  RuleRunResult,
  StartedRuleRun,
} from '../shared/run-types';
import { EVENT_ID } from '../shared/schemas';

// ---------------------------------------------------------------------------------------------
// Response schemas (the OpenAPI document is generated from these)
// ---------------------------------------------------------------------------------------------

export const EXECUTION_STATUSES = [
  'running',
  'completed',
  'failed',
  'cancelled',
  'terminated',
  'timed_out',
  'continued_as_new',
  'unknown',
] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];
/** What GET /executions?status= accepts: the statuses a run of ours can end in. */
export const FILTER_STATUSES = [
  'running',
  'completed',
  'failed',
  'cancelled',
  'terminated',
  'timed_out',
] as const;

export const EXECUTION_KINDS = ['event', 'rule-run', 'scheduled-tick', 'other'] as const;
export type ExecutionKind = (typeof EXECUTION_KINDS)[number];

const time = z.iso.datetime().describe('ISO 8601 time');

export const executionSummarySchema = z.object({
  workflowId: z.string(),
  runId: z.string(),
  kind: z
    .enum(EXECUTION_KINDS)
    .describe('event: the run that matched rules; rule-run: one rule for one event'),
  workflowType: z.string(),
  status: z.enum(EXECUTION_STATUSES),
  ruleId: z.string().nullable(),
  ruleName: z.string().nullable(),
  ruleVersion: z.number().int().nullable(),
  eventName: z.string().nullable(),
  eventId: z.string().nullable(),
  retryOf: z.string().nullable().describe('the failed run this one retries'),
  startedAt: time,
  closedAt: time.nullable(),
});
export type ExecutionSummary = z.infer<typeof executionSummarySchema>;

export const executionListSchema = z.object({
  items: z.array(executionSummarySchema),
  nextCursor: z.string().nullable(),
});
export type ExecutionList = z.infer<typeof executionListSchema>;

export const failureInfoSchema = z.object({
  message: z.string(),
  type: z.string().nullable(),
  nonRetryable: z.boolean(),
  /** HTTP status (webhook, Twilio) or SMTP reply code (email), from the activity's failure details. */
  status: z.number().int().nullable(),
  /** Twilio's error code, or the SMTP client's error code (e.g. EAUTH). */
  code: z.union([z.string(), z.number()]).nullable(),
  responseBody: z.string().nullable(),
});
export type FailureInfo = z.infer<typeof failureInfoSchema>;

const entryBase = { at: time.nullable() };

export const timelineEntrySchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('event_received'),
    ...entryBase,
    eventName: z.string(),
    eventId: z.string(),
    occurredAt: z.string().nullable(),
    userId: z.string().nullable(),
  }),
  z
    .object({
      type: z.literal('rule_matched'),
      ...entryBase,
      ruleId: z.string(),
      ruleName: z.string(),
      ruleVersion: z.number().int(),
      delay: z.string(),
      delayMs: z.number(),
      retryOf: z.string().nullable(),
    })
    .describe('a rule run starts: the rule as it was when the event matched it'),
  z
    .object({
      type: z.literal('rules_matched'),
      ...entryBase,
      rules: z.array(
        z.object({
          ruleId: z.string(),
          ruleName: z.string(),
          ruleVersion: z.number().int(),
          delay: z.string(),
        }),
      ),
      error: z.string().nullable(),
    })
    .describe("an event run looked up the account's enabled rules for the event"),
  z.object({
    type: z.literal('rule_run_started'),
    ...entryBase,
    ruleId: z.string().nullable(),
    ruleName: z.string().nullable(),
    workflowId: z.string(),
    runId: z.string().nullable(),
    error: z.string().nullable(),
  }),
  z.object({
    type: z.literal('delay_started'),
    ...entryBase,
    delay: z.string().describe('the rule delay, e.g. "5 minutes"'),
    delayMs: z.number(),
    remainingMs: z.number().describe('what was left of the delay (it is measured from ingest)'),
    plannedEndAt: time,
  }),
  z.object({
    type: z.literal('delay_ended'),
    ...entryBase,
    plannedEndAt: time.nullable(),
    actualEndAt: time.nullable(),
    lateByMs: z.number().nullable(),
    cancelled: z.boolean(),
  }),
  z.object({
    type: z.literal('delay_already_elapsed'),
    ...entryBase,
    delay: z.string(),
    plannedEndAt: time,
  }),
  z.object({
    type: z.literal('rule_reread'),
    ...entryBase,
    outcome: z.enum(['current', 'skipped']),
    ruleVersion: z.number().int().nullable(),
    ruleName: z.string().nullable(),
    versionChanged: z.boolean().describe('the rule was edited between the match and the end of the delay'),
    reason: z.string().nullable().describe('why the run was skipped'),
  }),
  z.object({
    type: z.literal('condition'),
    ...entryBase,
    fact: z.string(),
    path: z.string().nullable(),
    operator: z.string(),
    value: z.unknown(),
    factValue: z.unknown(),
    result: z.boolean().nullable(),
  }),
  z.object({
    type: z.literal('conditions_evaluated'),
    ...entryBase,
    matched: z.boolean(),
    userFound: z.boolean().nullable(),
  }),
  z
    .object({
      type: z.literal('action_attempt'),
      ...entryBase,
      startedAt: time.nullable(),
      actionIndex: z.number().int(),
      actionType: z.string(),
      activityType: z.string().nullable(),
      summary: z.string().nullable(),
      attempt: z.number().int(),
      outcome: z
        .enum(['sent', 'failed', 'retried', 'running', 'backing_off', 'timed_out', 'cancelled'])
        .describe(
          'retried: this attempt failed and another followed; backing_off: waiting for the next attempt',
        ),
      error: z.string().nullable(),
      errorType: z.string().nullable(),
      status: z.number().int().nullable().describe('HTTP status (webhook, Twilio) or SMTP reply code'),
      errorCode: z
        .union([z.string(), z.number()])
        .nullable()
        .describe("Twilio's error code or the SMTP client's (e.g. EAUTH)"),
      responseBody: z.string().nullable().describe("the first KB of the provider's answer"),
      providerId: z.string().nullable(),
      via: z.string().nullable(),
      nextAttemptAt: time.nullable(),
    })
    .describe(
      'one delivery attempt. History keeps the last attempt and the failure before it; `at` is null ' +
        'for an earlier attempt whose time history does not record',
    ),
  z
    .object({
      type: z.literal('activity'),
      ...entryBase,
      activityType: z.string(),
      summary: z.string().nullable(),
      attempt: z.number().int(),
      outcome: z.enum(['completed', 'failed', 'retried', 'running', 'backing_off', 'timed_out', 'cancelled']),
      error: z.string().nullable(),
    })
    .describe('any other activity (e.g. the rule re-read while it is still retrying)'),
  z.object({
    type: z.literal('cancel_requested'),
    ...entryBase,
    identity: z.string().nullable(),
    reason: z.string().nullable(),
  }),
  z.object({
    type: z.literal('outcome'),
    ...entryBase,
    status: z.enum(EXECUTION_STATUSES),
    outcome: z.string().nullable().describe('sent, conditions_not_met, skipped, failed; or the run status'),
    message: z.string().nullable(),
  }),
]);
export type TimelineEntry = z.infer<typeof timelineEntrySchema>;

export const eventSchemaOut = z.object({
  name: z.string(),
  id: z.string(),
  occurredAt: z.string().nullable(),
  receivedAt: z.string().nullable(),
  userId: z.string().nullable(),
  payload: z.record(z.string(), z.unknown()),
});

export const ruleRunRefSchema = z.object({
  workflowId: z.string(),
  ruleId: z.string().nullable(),
  ruleName: z.string().nullable(),
  status: z.enum(EXECUTION_STATUSES),
});

export const executionDetailSchema = executionSummarySchema.extend({
  event: eventSchemaOut.nullable(),
  /** The run's result: RuleRunResult for a rule run (also for a failed one), the matched rules for an event run. */
  result: z.unknown().nullable(),
  error: z
    .object({ type: z.string().nullable(), message: z.string() })
    .nullable()
    .describe('why the run failed, was terminated or timed out'),
  parentWorkflowId: z.string().nullable().describe('the event run that started this rule run'),
  ruleRuns: z.array(ruleRunRefSchema).nullable().describe('for an event run: the rule runs it started'),
  timeline: z.array(timelineEntrySchema),
});
export type ExecutionDetail = z.infer<typeof executionDetailSchema>;

export const cancelResponseSchema = z.object({
  workflowId: z.string(),
  status: z.literal('cancel_requested'),
});
export const retryResponseSchema = z.object({
  workflowId: z.string(),
  runId: z.string(),
  retryOf: z.string(),
});

// ---------------------------------------------------------------------------------------------
// Filters and the visibility query
// ---------------------------------------------------------------------------------------------

/** Strict shapes for filter values: nothing that could close a quote or add a clause. */
const ID = /^[A-Za-z0-9_.:-]{1,128}$/;
const EVENT_NAME = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$/;
export const WORKFLOW_ID = /^[A-Za-z0-9_.:-]{1,400}$/;

export const listQuerySchema = z
  .object({
    ruleId: z.string().regex(ID, 'must be a rule id such as rule_k3v9x0q2m1zt').optional(),
    eventName: z
      .string()
      .max(200)
      .regex(EVENT_NAME, 'must be a dotted event name such as job.created')
      .optional(),
    eventId: z.string().regex(EVENT_ID, 'must be 1-128 of A-Z a-z 0-9 . _ : -').optional(),
    status: z.enum(FILTER_STATUSES).optional(),
    kind: z.enum(['event', 'rule-run']).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z
      .string()
      .max(4096)
      .regex(/^[A-Za-z0-9_-]+$/, 'must be a cursor this API returned')
      .optional(),
  })
  .strict();
export type ListQuery = z.infer<typeof listQuerySchema>;

const STATUS_TO_VISIBILITY: Record<(typeof FILTER_STATUSES)[number], string> = {
  running: 'Running',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Canceled',
  terminated: 'Terminated',
  timed_out: 'TimedOut',
};

/**
 * A visibility string literal. Values are validated before they get here; escaping is the second
 * line of defence, and anything that still looks like it could break out of the literal is refused.
 */
export function quote(value: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value))
    throw new Error('control characters are not allowed in a query value');
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** `AccountId = '<caller>'` first, always; filters only narrow it with AND. */
export function buildListQuery(accountId: string, f: Omit<ListQuery, 'limit' | 'cursor'>): string {
  const clauses = [`AccountId = ${quote(accountId)}`];
  if (f.ruleId !== undefined) clauses.push(`RuleId = ${quote(f.ruleId)}`);
  if (f.eventName !== undefined) clauses.push(`EventName = ${quote(f.eventName)}`);
  if (f.eventId !== undefined) clauses.push(`EventId = ${quote(f.eventId)}`);
  if (f.status !== undefined) clauses.push(`ExecutionStatus = ${quote(STATUS_TO_VISIBILITY[f.status])}`);
  if (f.kind !== undefined)
    clauses.push(
      `WorkflowType = ${quote(f.kind === 'event' ? WORKFLOW_TYPES.event : WORKFLOW_TYPES.ruleRun)}`,
    );
  return clauses.join(' AND ');
}

// ---------------------------------------------------------------------------------------------
// Decoding helpers
// ---------------------------------------------------------------------------------------------

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

function tsMs(ts: Timestamp): number | null {
  if (!ts || ts.seconds === undefined || ts.seconds === null) return null;
  return num(ts.seconds) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
}
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
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

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const int = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) ? v : null);

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
  const message =
    f.timeoutFailureInfo && app && app !== f ? `${f.message ?? 'timed out'}: ${app.message}` : f.message;
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

// ---------------------------------------------------------------------------------------------
// History → timeline
// ---------------------------------------------------------------------------------------------

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
        for (const { rule, workflowId, runId } of started) {
          run.children.push({ workflowId, ruleId: rule.id, ruleName: rule.name });
          timeline.push({
            type: 'rule_run_started',
            at: atIso,
            ruleId: rule.id,
            ruleName: rule.name,
            workflowId,
            runId,
            error: null,
          });
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
      const received = ruleInput ? Date.parse(ruleInput.event.receivedAt) : NaN;
      const plannedEndAt =
        ruleInput && Number.isFinite(received) ? received + ruleInput.rule.delayMs : (at ?? 0) + remainingMs;
      timers.set(String(e.eventId), { plannedEndAt });
      timeline.push({
        type: 'delay_started',
        at: atIso,
        delay: ruleInput?.rule.delayText ?? summary ?? `${remainingMs} ms`,
        delayMs: ruleInput?.rule.delayMs ?? remainingMs,
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
        };
        timeline.push(
          actionAttempt(a, {
            at: atIso,
            startedAt: iso(a.startedAt),
            attempt: a.attempt,
            outcome: 'sent',
            status: int(r.status),
            providerId: r.providerId ?? null,
            via: r.via ?? null,
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
      run.error = { type, message: failure?.message ?? '' };
      if (details && typeof details === 'object' && 'outcome' in details) run.result = details;
      timeline.push({
        type: 'outcome',
        at: atIso,
        status: 'failed',
        outcome: type === 'ActionsFailed' ? 'failed' : 'error',
        message: failure?.message ?? null,
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
  if (r.outcome === 'sent') return `sent ${r.actions.length} action(s)`;
  return null;
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

// ---------------------------------------------------------------------------------------------
// The service
// ---------------------------------------------------------------------------------------------

const invalidCursor = () => new ApiError(400, 'invalid_cursor', 'cursor is not one this API returned');

/**
 * A cursor is Temporal's page token, prefixed with a short hash of the query it belongs to: a cursor
 * used with other filters (or made up) is refused instead of paging some other list.
 */
const queryTag = (query: string) => createHash('sha256').update(query).digest().subarray(0, 8);

function writeCursor(token: Uint8Array, query: string): string {
  return Buffer.concat([queryTag(query), Buffer.from(token)]).toString('base64url');
}

function readCursor(cursor: string, query: string): Uint8Array {
  const raw = Buffer.from(cursor, 'base64url');
  if (raw.length <= 8 || !raw.subarray(0, 8).equals(queryTag(query))) throw invalidCursor();
  return raw.subarray(8);
}

const RETRYABLE: ExecutionStatus[] = ['failed', 'terminated', 'timed_out'];
const notFound = () => ApiError.notFound('execution');

export class ExecutionService {
  private readonly decode: PayloadDecoder;

  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {
    this.decode = payloadDecoder(client.options.loadedDataConverter);
  }

  private get namespace(): string {
    return this.client.options.namespace;
  }

  async list(accountId: string, q: ListQuery): Promise<ExecutionList> {
    const query = buildListQuery(accountId, q);
    const nextPageToken = q.cursor === undefined ? undefined : readCursor(q.cursor, query);
    let response;
    try {
      response = await this.client.workflowService.listWorkflowExecutions({
        namespace: this.namespace,
        query,
        pageSize: q.limit,
        nextPageToken,
      });
    } catch (err) {
      // A token the server cannot read is the caller's mistake, not ours.
      if (q.cursor !== undefined && (err as { code?: number }).code === 3) throw invalidCursor();
      throw err;
    }
    const items = await Promise.all(response.executions.map((raw) => this.summarize(raw)));
    // Defence in depth: never hand out a row of another account, whatever the query matched.
    const own = items.filter((i) => i.accountId === accountId).map(({ accountId: _a, ...rest }) => rest);
    const token = response.nextPageToken;
    return { items: own, nextCursor: token && token.length ? writeCursor(token, query) : null };
  }

  private async summarize(raw: RawWorkflowExecutionInfo): Promise<ExecutionSummary & { accountId: unknown }> {
    const sa: Record<string, unknown> = {};
    for (const [k, p] of Object.entries(raw.searchAttributes?.indexedFields ?? {})) {
      // Search attributes always use the default (JSON) converter, never a custom codec.
      const v = defaultPayloadConverter.fromPayload(p);
      sa[k] = Array.isArray(v) ? v[0] : v;
    }
    const memo: Record<string, unknown> = {};
    for (const [k, p] of Object.entries(raw.memo?.fields ?? {})) memo[k] = await this.decode(p);
    const workflowType = raw.type?.name ?? '';
    return {
      accountId: sa.AccountId,
      workflowId: raw.execution?.workflowId ?? '',
      runId: raw.execution?.runId ?? '',
      kind: kindOf(workflowType),
      workflowType,
      status: statusFromCode(raw.status),
      ruleId: str(sa.RuleId),
      ruleName: str(memo.ruleName),
      ruleVersion: int(memo.ruleVersion),
      eventName: str(sa.EventName),
      eventId: str(sa.EventId),
      retryOf: str(memo.retryOf),
      startedAt: iso(tsMs(raw.startTime)) ?? new Date(0).toISOString(),
      closedAt: iso(tsMs(raw.closeTime)),
    };
  }

  /** describe() of the latest run, or 404 when it does not exist or is another account's. */
  private async describeOwn(accountId: string, workflowId: string): Promise<WorkflowExecutionDescription> {
    if (!WORKFLOW_ID.test(workflowId)) throw notFound();
    let d: WorkflowExecutionDescription;
    try {
      d = await this.client.workflow.getHandle(workflowId).describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw notFound();
      throw err;
    }
    if (d.typedSearchAttributes.get(SEARCH_ATTRIBUTES.AccountId) !== accountId) throw notFound();
    return d;
  }

  async get(accountId: string, workflowId: string): Promise<ExecutionDetail> {
    const d = await this.describeOwn(accountId, workflowId);
    const status = statusFromCode(d.status.code);
    const handle = this.client.workflow.getHandle(workflowId, d.runId);
    const [history, pending] = await Promise.all([
      handle.fetchHistory(),
      status === 'running' ? decodePendingActivities(d.raw, this.decode) : Promise.resolve([]),
    ]);
    const run = await decodeHistory(history, this.decode, pending);
    const memo = d.memo ?? {};
    const input = run.input as Partial<RuleRunInput> | null;
    const ruleRuns = run.kind === 'event' ? await this.childStatuses(run.children) : null;
    return {
      workflowId,
      runId: d.runId,
      kind: run.kind,
      workflowType: d.type,
      status,
      ruleId: d.typedSearchAttributes.get(SEARCH_ATTRIBUTES.RuleId) ?? null,
      ruleName: str(memo.ruleName) ?? input?.rule?.name ?? null,
      ruleVersion: run.ruleVersion ?? int(memo.ruleVersion),
      eventName: d.typedSearchAttributes.get(SEARCH_ATTRIBUTES.EventName) ?? run.event?.name ?? null,
      eventId: d.typedSearchAttributes.get(SEARCH_ATTRIBUTES.EventId) ?? run.event?.id ?? null,
      retryOf: input?.retryOf ?? str(memo.retryOf),
      startedAt: d.startTime.toISOString(),
      closedAt: d.closeTime ? d.closeTime.toISOString() : null,
      event: run.event,
      result: run.result ?? null,
      error: run.error,
      parentWorkflowId: run.parentWorkflowId,
      ruleRuns,
      timeline: run.timeline,
    };
  }

  /** Strongly consistent statuses of an event run's rule runs (visibility could lag behind). */
  private async childStatuses(children: DecodedRun['children']): Promise<z.infer<typeof ruleRunRefSchema>[]> {
    const out: z.infer<typeof ruleRunRefSchema>[] = [];
    const batch = 10;
    for (let i = 0; i < children.length; i += batch) {
      out.push(
        ...(await Promise.all(
          children.slice(i, i + batch).map(async (c) => {
            const status = await this.client.workflow
              .getHandle(c.workflowId)
              .describe()
              .then((d) => statusFromCode(d.status.code))
              .catch(() => 'unknown' as const);
            return { ...c, status };
          }),
        )),
      );
    }
    return out;
  }

  async cancel(accountId: string, workflowId: string): Promise<z.infer<typeof cancelResponseSchema>> {
    const d = await this.describeOwn(accountId, workflowId);
    const status = statusFromCode(d.status.code);
    if (status !== 'running') {
      throw new ApiError(
        409,
        'not_running',
        `execution is ${status}, only a running execution can be cancelled`,
      );
    }
    await this.client.workflow.getHandle(workflowId, d.runId).cancel();
    return { workflowId, status: 'cancel_requested' };
  }

  /**
   * Starts a new run of the same rule for the same event, linked to the old one (`retryOf` in the input
   * and memo). Unlike Temporal's reset, the old run and its history stay as they are.
   */
  async retry(accountId: string, workflowId: string): Promise<z.infer<typeof retryResponseSchema>> {
    const d = await this.describeOwn(accountId, workflowId);
    if (kindOf(d.type) !== 'rule-run') {
      throw new ApiError(409, 'not_retryable', 'only a rule run can be retried; retry its rule runs instead');
    }
    const status = statusFromCode(d.status.code);
    if (!RETRYABLE.includes(status)) {
      throw new ApiError(
        409,
        'not_retryable',
        `execution is ${status}; only a failed, terminated or timed-out rule run can be retried`,
      );
    }
    const first = await this.client.workflowService.getWorkflowExecutionHistory({
      namespace: this.namespace,
      execution: { workflowId, runId: d.runId },
      maximumPageSize: 1,
    });
    const started = first.history?.events?.[0]?.workflowExecutionStartedEventAttributes;
    const input = (await this.decode(started?.input?.payloads?.[0])) as RuleRunInput | undefined;
    if (!input?.rule || !input.event)
      throw new ApiError(409, 'not_retryable', 'the run has no input to repeat');
    const args: RuleRunInput = { ...input, retryOf: workflowId };
    const memo = { ...(d.memo ?? {}), kind: 'rule-run', retryOf: workflowId };

    const root = workflowId.replace(/-retry-\d+$/, '');
    const m = /-retry-(\d+)$/.exec(workflowId);
    for (let n = m ? Number(m[1]) + 1 : 1, tries = 0; tries < 100; n++, tries++) {
      const newId = `${root}-retry-${n}`;
      try {
        const handle = await this.client.workflow.start(WORKFLOW_TYPES.ruleRun, {
          taskQueue: this.taskQueue,
          workflowId: newId,
          args: [args],
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          typedSearchAttributes: [
            { key: SEARCH_ATTRIBUTES.AccountId, value: accountId },
            { key: SEARCH_ATTRIBUTES.RuleId, value: input.rule.id },
            { key: SEARCH_ATTRIBUTES.EventName, value: input.event.name },
            { key: SEARCH_ATTRIBUTES.EventId, value: input.event.id },
          ],
          memo,
          staticSummary: `${input.rule.name} · ${input.event.name} ${input.event.id} (retry ${n})`,
          staticDetails: `Retry ${n} of \`${workflowId}\` (${status}): rule **${input.rule.name}** for event \`${input.event.name}\` \`${input.event.id}\`.`,
        });
        return { workflowId: newId, runId: handle.firstExecutionRunId, retryOf: workflowId };
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) continue;
        throw err;
      }
    }
    throw new ApiError(409, 'too_many_retries', 'this run has been retried too many times');
  }
}
