/**
 * GET /executions and /executions/stats queries, and the visibility query a list request becomes.
 */
import { z } from 'zod';
import { WORKFLOW_TYPES } from '../../shared/constants';
import { RUN_OUTCOMES } from '../../shared/outcomes';
import { timezoneSchema } from '../../shared/schema-parts';
import { EVENT_ID } from '../../shared/schemas';
import { FILTER_STATUSES, time } from './kinds';

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

export const dailyStatsQuerySchema = z
  .object({
    days: z.coerce
      .number()
      .int()
      .min(1)
      .max(31)
      .default(14)
      .describe('how many calendar days, ending today (today counts so far)'),
    timezone: timezoneSchema.optional().describe("where the days begin and end (default: the account's)"),
    ruleId: listQuerySchema.shape.ruleId,
  })
  .strict();
export type DailyStatsQuery = z.infer<typeof dailyStatsQuerySchema>;

export const dailyStatsSchema = z.object({
  timezone: z.string(),
  days: z
    .array(
      z.object({ date: z.string().describe('YYYY-MM-DD'), start: time, end: time, counts: outcomeCounts }),
    )
    .describe('oldest first; the last one is today'),
});
export type DailyStats = z.infer<typeof dailyStatsSchema>;

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
