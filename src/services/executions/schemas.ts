/**
 * The execution log's response schemas (the OpenAPI document is generated from these); the timeline
 * entries and the list and stats queries have modules of their own.
 */
import { z } from 'zod';
import { RUN_OUTCOMES } from '../../shared/outcomes';
import { EXECUTION_KINDS, EXECUTION_STATUSES, time } from './kinds';
import { timelineEntrySchema } from './timeline-schemas';

export * from './kinds';
export * from './timeline-schemas';
export * from './queries';

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

export const retentionSchema = z
  .object({
    seconds: z.number().int(),
    duration: z.string().describe('e.g. 30d, as TEMPORAL_RETENTION is written'),
  })
  .nullable()
  .describe(
    "How far back the log reaches: the Temporal namespace's retention (TEMPORAL_RETENTION). A run is " +
      'listed while it runs and for this long after it closed, then Temporal deletes it. null when ' +
      'Temporal did not say.',
  );

export const executionListSchema = z.object({
  items: z.array(executionSummarySchema),
  nextCursor: z.string().nullable(),
  retention: retentionSchema,
});
export type ExecutionList = z.infer<typeof executionListSchema>;

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
  temporalUiUrl: z
    .string()
    .nullable()
    .optional()
    .describe("this run in the Temporal Web UI (TEMPORAL_UI_URL, or the dev server's UI); null if unknown"),
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
