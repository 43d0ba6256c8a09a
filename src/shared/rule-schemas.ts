/**
 * Rules: the trigger (an event, optionally followed by key, or a schedule), the delay, and the rule
 * documents the API reads and writes, with the warnings it answers.
 */
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { actionSchema, MAX_ACTIONS } from './action-schemas';
import { conditionDepth, MAX_CONDITION_DEPTH, treeSchema, type ConditionTree } from './condition-schemas';
import { eventName, readOnly, timezoneSchema } from './schema-parts';
import {
  DELAY_UNITS,
  factPathSchema,
  MAX_DELAY_MS,
  UNIT_MS,
  untilDelaySchema,
  windowSchema,
} from './timing-schemas';

/** A duration delay in ms; an `until` delay has none of its own (0). */
export const delayMs = (d: { value: number; unit: (typeof DELAY_UNITS)[number] } | { until: unknown }) =>
  'until' in d ? 0 : d.value * UNIT_MS[d.unit];

const MONTHS = 'JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC';
const DAYS = 'SUN|MON|TUE|WED|THU|FRI|SAT';
/** Per field, the tokens Temporal Schedules accept (no L, W, ? or H: the Temporal SDK refuses them). */
const CRON_FIELDS: [string, RegExp][] = [
  ['minute', /^(\*|\d{1,2})$/],
  ['hour', /^(\*|\d{1,2})$/],
  ['day of month', /^(\*|\d{1,2})$/],
  ['month', new RegExp(`^(\\*|\\d{1,2}|${MONTHS})$`, 'i')],
  ['day of week', new RegExp(`^(\\*|\\d|${DAYS})$`, 'i')],
];

function cronProblem(cron: string): string | null {
  const fields = cron.split(' ');
  for (const [i, field] of fields.entries()) {
    const [name, token] = CRON_FIELDS[i];
    // Lists, ranges and steps of plain values; `#n` (the nth weekday) in the day of week.
    const body = i === 4 ? field.replace(/#[1-5]$/, '') : field;
    if (!body.split(/[,/-]/).every((t) => token.test(t)))
      return `the ${name} field "${field}" is not supported`;
  }
  try {
    CronExpressionParser.parse(cron);
  } catch (err) {
    return (err as Error).message;
  }
  return null;
}

const cronExpression = z
  .string()
  .max(100)
  .regex(/^\S+( \S+){4}$/, 'must be a five-field cron expression such as "0 9 * * MON"')
  .superRefine((cron, ctx) => {
    if (cron.split(' ').length !== 5) return;
    const problem = cronProblem(cron);
    if (problem) ctx.addIssue({ code: 'custom', message: `is not a valid cron expression: ${problem}` });
  })
  .meta({
    description: 'Five fields (minute precision at most): minute hour day-of-month month day-of-week.',
  });
/** Followers of one job: correlated by `key`, moved by `updateOn`, ended by `cancelOn`. */
const follow = {
  key: factPathSchema.optional().meta({
    description: 'Correlates events: at most one pending run per (rule, key value); the newest event wins.',
    examples: [{ fact: 'job', path: '$.id' }],
  }),
  updateOn: z
    .array(eventName)
    .max(10)
    .optional()
    .meta({ description: 'Events (same key) that move a pending run, or start one when none is pending.' }),
  cancelOn: z
    .array(
      z
        .object({ eventName, conditions: z.lazy(() => treeSchema).optional() })
        .strict()
        .meta({ description: 'Conditions are evaluated on the cancelling event.' }),
    )
    .max(10)
    .optional()
    .meta({ description: 'Events (same key) that end the pending run cancelled.' }),
};

export const triggerSchema = z
  .union([
    z
      .object({ eventName, ...follow })
      .strict()
      .superRefine((t, ctx) => {
        for (const f of ['updateOn', 'cancelOn'] as const)
          if (t[f]?.length && !t.key)
            ctx.addIssue({ code: 'custom', path: [f], message: 'needs trigger.key' });
      }),
    z
      .object({
        schedule: z.object({ cron: cronExpression, timezone: timezoneSchema.default('UTC') }).strict(),
      })
      .strict(),
  ])
  .meta({ id: 'Trigger', description: 'An event name, or a schedule that runs the rule over the users.' });

export const durationDelaySchema = z
  .object({ value: z.number().int().min(0), unit: z.enum(DELAY_UNITS) })
  .strict()
  .refine((d) => delayMs(d) <= MAX_DELAY_MS, { message: 'must be at most 365 days', path: ['value'] })
  .meta({ id: 'Delay', description: 'How long after the event the rule runs (at most 365 days).' });
export const delaySchema = z.union([durationDelaySchema, untilDelaySchema]);
export type DurationDelay = z.infer<typeof durationDelaySchema>;

const ruleFields = {
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).nullish(),
  enabled: z.boolean(),
  trigger: triggerSchema,
  delay: delaySchema,
  window: windowSchema.nullish(),
  conditions: treeSchema,
  actions: z.array(actionSchema).min(1).max(MAX_ACTIONS),
};

function checkDepth(
  rule: { conditions?: ConditionTree; trigger?: z.infer<typeof triggerSchema>; delay?: unknown },
  ctx: z.RefinementCtx,
) {
  if (
    rule.trigger &&
    'schedule' in rule.trigger &&
    rule.delay &&
    typeof rule.delay === 'object' &&
    'until' in rule.delay
  )
    ctx.addIssue({
      code: 'custom',
      path: ['delay', 'until'],
      message: 'needs an event trigger: a schedule has no event',
    });
  if (rule.conditions && conditionDepth(rule.conditions) > MAX_CONDITION_DEPTH) {
    ctx.addIssue({
      code: 'custom',
      path: ['conditions'],
      message: `nesting deeper than ${MAX_CONDITION_DEPTH} levels`,
    });
  }
}

export const ruleBodySchema = z
  .object({
    ...ruleFields,
    enabled: ruleFields.enabled.default(true),
    delay: ruleFields.delay.default({ value: 0, unit: 'minutes' }),
    conditions: ruleFields.conditions.default({ all: [] }),
    ...readOnly,
  })
  .strict()
  .superRefine(checkDepth)
  .meta({ id: 'RuleInput', description: '`accountId` comes from the API key; one in the body is ignored.' });

export type RuleBody = z.infer<typeof ruleBodySchema>;
export const rulePatchSchema = z
  .object({ ...ruleFields, ...readOnly })
  .partial()
  .strict()
  .superRefine(checkDepth)
  .meta({
    id: 'RulePatch',
    description: 'Any subset of the rule fields; the merged rule is validated whole.',
  });

const stored = {
  version: z.number().int().meta({ description: 'Starts at 1; every PUT or PATCH adds 1.' }),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
};

export const ruleSchema = z
  .object({
    id: z.string(),
    ...ruleFields,
    description: z.string().nullable(),
    ...stored,
  })
  .meta({ id: 'Rule' });

export const warningSchema = z
  .object({
    code: z.string().meta({
      description:
        'no_catalogue, unknown_fact, unknown_path, unknown_placeholder, unknown_recipient_path, ' +
        'numeric_operator_on_string; in dry runs also empty_placeholder, null_fact, rule_disabled, ' +
        'other_event, scheduled, user_not_found',
    }),
    path: z.string().meta({ description: 'the rule field it is about, e.g. conditions.all[0].path' }),
    message: z.string(),
    suggestion: z.string().optional().meta({ description: 'the nearest known path, fact or placeholder' }),
  })
  .meta({ id: 'Warning', description: 'Valid but probably wrong; the rule is saved (or dry-run) anyway.' });

/** What POST/PUT/PATCH /rules answer: the rule as saved, and what looks wrong in it. */
export const ruleWithWarningsSchema = ruleSchema
  .extend({ warnings: z.array(warningSchema) })
  .meta({ id: 'RuleWithWarnings' });

export type Rule = RuleBody & { id: string; version: number; createdAt: string; updatedAt: string };
