/**
 * The timeline entries of GET /executions/:id: what a run did, step by step, read from its history.
 */
import { z } from 'zod';
import { EXECUTION_STATUSES, time } from './kinds';

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
