/**
 * The execution log's response and query schemas (the OpenAPI document is generated from these), and
 * the visibility query a list request becomes.
 */
import { z } from 'zod';
import { WORKFLOW_TYPES } from '../../shared/constants';
import { RUN_OUTCOMES } from '../../shared/outcomes';
import { EVENT_ID } from '../../shared/schemas';

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
  outcome: z
    .enum(RUN_OUTCOMES)
    .nullable()
    .describe(
      'what a rule run or scheduled tick came to (the `Outcome` search attribute; derived from the result ' +
        'for runs recorded before it); null for event runs and runs still running',
    ),
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
    action: z
      .string()
      .optional()
      .describe("keyed rules: what the event did to the key's run (signalled, cancel sent, no pending run)"),
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
        .enum(['sent', 'suppressed', 'failed', 'retried', 'running', 'backing_off', 'timed_out', 'cancelled'])
        .describe(
          'retried: this attempt failed and another followed; backing_off: waiting for the next attempt; ' +
            'suppressed: the recipient opted out, nothing was sent (see reason)',
        ),
      reason: z.string().optional().describe('why a suppressed action was not sent'),
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
  z
    .object({
      type: z.literal('send_time_computed'),
      ...entryBase,
      sendAt: time,
      dueAt: time,
      basis: z.string().describe('the date and offset (or ingest and delay) it came from'),
    })
    .describe('a keyed or timed run computed when it sends'),
  z
    .object({ type: z.literal('rescheduled'), ...entryBase, from: time, to: time, byEvent: z.string() })
    .describe('a later event with the same key moved the send time'),
  z
    .object({ type: z.literal('stale_update_ignored'), ...entryBase, reason: z.string() })
    .describe('an event older than the one the run follows was ignored'),
  z
    .object({ type: z.literal('window_wait'), ...entryBase, until: time, timezone: z.string() })
    .describe('the send time fell outside the send window: waiting until it opens'),
  z
    .object({ type: z.literal('send_time_skipped'), ...entryBase, reason: z.string() })
    .describe('the send time had passed, or the date was missing or unparsable'),
  z
    .object({
      type: z.literal('follow_event'),
      ...entryBase,
      as: z.enum(['trigger', 'update', 'cancel']),
      eventName: z.string(),
      eventId: z.string(),
      occurredAt: z.string().nullable(),
    })
    .describe('a later event with the same key reached the run (a signal)'),
  z.object({
    type: z.literal('outcome'),
    ...entryBase,
    status: z.enum(EXECUTION_STATUSES),
    outcome: z
      .string()
      .nullable()
      .describe('sent, conditions_not_met, skipped, failed, cancelled; or the run status'),
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

export const deliverySchema = z.object({
  actionIndex: z.number().int(),
  channel: z.string(),
  providerId: z.string().nullable().describe("the provider's message id (Twilio's sid), or the outbox id"),
  deliveredAt: time.describe('when the provider accepted it'),
  status: z
    .string()
    .nullable()
    .describe("the provider's latest receipt: queued, sent, delivered, undelivered, failed… (SMS)"),
  statusAt: time.nullable(),
  errorCode: z.string().nullable().describe("the carrier's error code with undelivered/failed (e.g. 30003)"),
});
export type DeliveryDto = z.infer<typeof deliverySchema>;

export const executionDetailSchema = executionSummarySchema.extend({
  event: eventSchemaOut.nullable(),
  /** The run's result: RuleRunResult for a rule run (also for a failed one), the matched rules for an event run. */
  // Any JSON, said explicitly: an empty schema in anyOf reads as a mistake to OpenAPI linters.
  result: z
    .unknown()
    .meta({ type: ['object', 'array', 'string', 'number', 'boolean'] })
    .nullable(),
  error: z
    .object({ type: z.string().nullable(), message: z.string() })
    .nullable()
    .describe('why the run failed, was terminated or timed out'),
  parentWorkflowId: z.string().nullable().describe('the event run that started this rule run'),
  ruleRuns: z.array(ruleRunRefSchema).nullable().describe('for an event run: the rule runs it started'),
  timeline: z.array(timelineEntrySchema),
  deliveries: z
    .array(deliverySchema)
    .optional()
    .describe("each delivered action's ledger row and latest delivery receipt"),
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

/** Strict shapes for filter values: nothing that could close a quote or add a clause. */
const ID = /^[A-Za-z0-9_.:-]{1,128}$/;
const EVENT_NAME = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$/;
/** `~` separates a keyed run's rule and key (`run-<ruleId>~<key>`). */
export const WORKFLOW_ID = /^[A-Za-z0-9_.:~-]{1,400}$/;

export const listQuerySchema = z
  .object({
    ruleId: z.string().regex(ID, 'must be a rule id such as rule_k3v9x0q2m1zt').optional(),
    eventName: z
      .string()
      .max(200)
      .regex(EVENT_NAME, 'must be a dotted event name such as job.created')
      .optional(),
    eventId: z.string().regex(EVENT_ID, 'must be 1-128 of A-Z a-z 0-9 . _ : -').optional(),
    key: z
      .string()
      .min(1)
      .max(200)
      // eslint-disable-next-line no-control-regex
      .regex(/^[^\u0000-\u001f\u007f]+$/, 'must not contain control characters')
      .optional()
      .meta({
        description: "A keyed rule's key value (`trigger.key`, such as the job id): every run for it.",
      }),
    status: z.enum(FILTER_STATUSES).optional(),
    kind: z.enum(['event', 'rule-run']).optional(),
    outcome: z
      .enum(RUN_OUTCOMES)
      .optional()
      .describe('only runs that ended so (runs recorded before the `Outcome` attribute are not matched)'),
    since: time.optional().describe('only runs started at or after this time'),
    until: time.optional().describe('only runs started before this time'),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z
      .string()
      .max(4096)
      .regex(/^[A-Za-z0-9_-]+$/, 'must be a cursor this API returned')
      .optional(),
  })
  .strict();
export type ListQuery = z.infer<typeof listQuerySchema>;

export const statsQuerySchema = z
  .object({
    since: time.describe('count runs started at or after this time'),
    until: time.optional().describe('and before this time (default: now)'),
    ruleId: listQuerySchema.shape.ruleId,
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(100)
      .default(50)
      .describe('rules per page (the totals are on every page)'),
    cursor: z
      .string()
      .regex(/^[0-9]{1,19}$/, 'must be a cursor this API returned')
      .optional(),
  })
  .strict();
export type StatsQuery = z.infer<typeof statsQuerySchema>;

const outcomeCounts = z.object(
  Object.fromEntries(RUN_OUTCOMES.map((o) => [o, z.number().int()])),
) as z.ZodObject<Record<(typeof RUN_OUTCOMES)[number], z.ZodNumber>>;
export const statsSchema = z.object({
  since: time,
  until: time.nullable(),
  total: outcomeCounts.describe(
    "every run of the account's rules (also of rules since deleted), per outcome",
  ),
  rules: z
    .array(z.object({ ruleId: z.string(), ruleName: z.string(), counts: outcomeCounts }))
    .describe('per rule of the account, a page of them (rules without runs in the range have zeros)'),
  nextCursor: z.string().nullable().describe('the next page of rules, or null'),
});
export type Stats = z.infer<typeof statsSchema>;

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
  if (f.outcome !== undefined) clauses.push(`Outcome = ${quote(f.outcome)}`);
  if (f.since !== undefined) clauses.push(`StartTime >= ${quote(f.since)}`);
  if (f.until !== undefined) clauses.push(`StartTime < ${quote(f.until)}`);
  if (f.ruleId !== undefined) clauses.push(`RuleId = ${quote(f.ruleId)}`);
  if (f.eventName !== undefined) clauses.push(`EventName = ${quote(f.eventName)}`);
  if (f.eventId !== undefined) clauses.push(`EventId = ${quote(f.eventId)}`);
  if (f.key !== undefined) clauses.push(`EntityKey = ${quote(f.key)}`);
  if (f.status !== undefined) clauses.push(`ExecutionStatus = ${quote(STATUS_TO_VISIBILITY[f.status])}`);
  if (f.kind !== undefined)
    clauses.push(
      `WorkflowType = ${quote(f.kind === 'event' ? WORKFLOW_TYPES.event : WORKFLOW_TYPES.ruleRun)}`,
    );
  return clauses.join(' AND ');
}
