/**
 * The one definition of what the API accepts: rules, users, templates and events. The API validates
 * with these, the activities re-validate stored rules with them, and GET /openapi.json is generated
 * from them (schemas with an `id` become named components).
 */
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { missingDollarMessage } from './paths';
import { eventName, factName, safePath, timezoneSchema } from './schema-parts';
import { jsonStrings, jsonStringsAt, parseTemplate, templateFacts } from './templates';
import {
  DELAY_UNITS,
  factPathSchema,
  MAX_DELAY_MS,
  UNIT_MS,
  sendTimeSchema,
  untilDelaySchema,
  windowSchema,
} from './timing-schemas';

export { eventName, isTimeZone, timezoneSchema } from './schema-parts';
export { DELAY_UNITS, MAX_DELAY_MS } from './timing-schemas';

export const OPERATORS = [
  'equal',
  'notEqual',
  'lessThan',
  'lessThanInclusive',
  'greaterThan',
  'greaterThanInclusive',
  'in',
  'notIn',
  'contains',
  'doesNotContain',
] as const;
const NUMERIC_OPERATORS = new Set(['lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive']);
const LIST_OPERATORS = new Set(['in', 'notIn']);

export const MAX_CONDITION_DEPTH = 5;
export const MAX_ACTIONS = 10;
export const MAX_USER_ATTRIBUTES_BYTES = 16_384;
export const MAX_WEBHOOK_PAYLOAD_BYTES = 65_536;

/** A duration delay in ms; an `until` delay has none of its own (0). */
export const delayMs = (d: { value: number; unit: (typeof DELAY_UNITS)[number] } | { until: unknown }) =>
  'until' in d ? 0 : d.value * UNIT_MS[d.unit];

/** The hint for a path written without `$`, in the form right for the fact in use. */
function factPathProblem(v: { fact: string; path?: string }, ctx: z.RefinementCtx): void {
  if (v.path !== undefined && !v.path.startsWith('$'))
    ctx.addIssue({ code: 'custom', path: ['path'], message: missingDollarMessage(v.path, v.fact) });
}

/** `min` 1 for parts that must not be empty: a check on the string itself, so the OpenAPI doc shows it. */
const template = (max: number, min = 0) =>
  (min ? z.string().min(min) : z.string())
    .max(max)
    .superRefine((text, ctx) => {
      try {
        parseTemplate(text, true);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `template does not parse: ${(err as Error).message}` });
      }
    })
    .meta({
      description:
        "Text with `{{fact.path}}` placeholders (`{{job.number}}`, `{{job['first name']}}`); values are substituted, never evaluated.",
    });

/** UTF-8 size of a JSON value as stored. Only called on values the API has already depth-checked. */
export const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value) ?? '');

const jsonObject = (maxBytes: number, what: string) =>
  z
    .record(z.string(), z.unknown())
    .refine((o) => jsonBytes(o) <= maxBytes, `must be at most ${maxBytes / 1024} KB as JSON`)
    .meta({ description: `${what} (a JSON object of at most ${maxBytes / 1024} KB)` });

const scalar = z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]);

export const conditionSchema = z
  .object({
    fact: factName,
    path: safePath.optional(),
    operator: z.enum(OPERATORS),
    value: z.union([scalar, z.array(scalar).max(100)]),
  })
  .strict()
  .superRefine((c, ctx) => {
    factPathProblem(c, ctx);
    if (NUMERIC_OPERATORS.has(c.operator) && typeof c.value !== 'number') {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `operator ${c.operator} needs a number` });
    }
    if (LIST_OPERATORS.has(c.operator) !== Array.isArray(c.value)) {
      ctx.addIssue({
        code: 'custom',
        path: ['value'],
        message: LIST_OPERATORS.has(c.operator)
          ? `operator ${c.operator} needs an array`
          : `operator ${c.operator} needs a single value`,
      });
    }
  })
  .meta({
    id: 'Condition',
    description: 'One json-rules-engine condition: the value at `path` of `fact`, compared with `value`.',
  });

export type Condition = z.infer<typeof conditionSchema>;
export type ConditionTree = { all: ConditionNode[] } | { any: ConditionNode[] } | { not: ConditionNode };
export type ConditionNode = Condition | ConditionTree;

const nodeSchema: z.ZodType<ConditionNode> = z
  .lazy(() => z.union([conditionSchema, treeSchema]))
  .meta({ id: 'ConditionNode' });
export const treeSchema: z.ZodType<ConditionTree> = z
  .lazy(() =>
    z.union([
      z.object({ all: z.array(nodeSchema).max(50) }).strict(),
      z.object({ any: z.array(nodeSchema).max(50) }).strict(),
      z.object({ not: nodeSchema }).strict(),
    ]),
  )
  .meta({
    id: 'ConditionTree',
    description: `A json-rules-engine condition tree rooted at all/any/not, at most ${MAX_CONDITION_DEPTH} levels deep.`,
  });

export function conditionDepth(node: ConditionNode): number {
  if ('all' in node) return 1 + Math.max(0, ...node.all.map(conditionDepth));
  if ('any' in node) return 1 + Math.max(0, ...node.any.map(conditionDepth));
  if ('not' in node) return 1 + conditionDepth(node.not);
  return 0;
}

const E164 = /^\+[1-9]\d{6,14}$/;
export const phoneSchema = z
  .string()
  .max(16)
  .regex(E164, 'must be an E.164 phone number such as +15551234567');
/**
 * zod's email pattern with DNS label rules (1-63 characters, no dash at either end), and a local part
 * of at most 64 characters as a check of its own (a look-ahead in the pattern would be lost on most
 * OpenAPI tooling). The doc says `format: email`, which excludes both; the API now agrees with it.
 */
const EMAIL =
  /^(?:[A-Za-z0-9_'+-]+\.)*[A-Za-z0-9_'+-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;
export const emailSchema = z
  .email({ pattern: EMAIL, error: 'must be a valid email address' })
  .max(254)
  .refine((e) => e.indexOf('@') <= 64, 'must be a valid email address');

const recipientRef = z
  .discriminatedUnion('source', [
    z
      .object({ source: z.literal('fact'), fact: factName, path: safePath })
      .strict()
      .superRefine(factPathProblem),
    z.object({ source: z.literal('user'), field: z.enum(['phone', 'email']) }).strict(),
  ])
  .meta({
    id: 'RecipientRef',
    description: 'Where the recipient comes from when the rule runs: a fact path, or the event user.',
  });

export const templateIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,99}$/, 'must be a slug: lowercase letters, digits and dashes (at most 100)')
  .meta({
    description: "The account's own slug for the template.",
    examples: ['new-high-value-job-template'],
  });

/** JSON Schema: `field` is present and a non-empty string. */
const nonEmpty = (field: string) => ({
  required: [field],
  properties: { [field]: { type: 'string', minLength: 1 } },
});
const TEXT_OR_HTML = [nonEmpty('text'), nonEmpty('html')];

const smsAction = z
  .object({
    type: z.literal('sms'),
    params: z
      .object({
        recipient: z.union([phoneSchema, recipientRef]),
        message: template(1600, 1),
      })
      .strict(),
  })
  .strict()
  .meta({ id: 'SmsAction' });

const emailAction = z
  .object({
    type: z.literal('email'),
    params: z
      .object({
        recipient: z.union([emailSchema, recipientRef]),
        templateId: templateIdSchema.optional(),
        subject: template(500).optional(),
        text: template(100_000).optional(),
        html: template(200_000).optional(),
        transactional: z
          .boolean()
          .optional()
          .meta({
            description:
              'A receipt or password-like message the recipient asked for: sent without List-Unsubscribe and ' +
              'without the suppression check. Never for marketing or reminders.',
          }),
      })
      .strict()
      // What the check below enforces, for the OpenAPI doc (a refinement does not appear there).
      .meta({ anyOf: [{ required: ['templateId'] }, { ...nonEmpty('subject'), anyOf: TEXT_OR_HTML }] })
      .superRefine((p, ctx) => {
        if (!p.templateId && !p.subject) {
          ctx.addIssue({ code: 'custom', path: ['subject'], message: 'required unless templateId is given' });
        }
        if (!p.templateId && !p.text && !p.html) {
          ctx.addIssue({
            code: 'custom',
            path: ['text'],
            message: 'text or html required unless templateId is given',
          });
        }
      }),
  })
  .strict()
  .meta({
    id: 'EmailAction',
    description:
      'Inline subject and text/html, or a stored template (`templateId`); inline parts override it.',
  });

const webhookAction = z
  .object({
    type: z.literal('webhook'),
    params: z
      .object({
        url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048),
        method: z.enum(['POST', 'PUT', 'PATCH']).default('POST'),
        payload: jsonObject(
          MAX_WEBHOOK_PAYLOAD_BYTES,
          'The JSON body; every string in it is a template',
        ).default({}),
      })
      .strict()
      .superRefine((p, ctx) => {
        for (const s of jsonStringsAt(p.payload, ['payload'])) {
          try {
            parseTemplate(s.text, true);
          } catch (err) {
            ctx.addIssue({
              code: 'custom',
              path: s.segments,
              message: `template does not parse: ${(err as Error).message}`,
            });
          }
        }
      }),
  })
  .strict()
  .meta({
    id: 'WebhookAction',
    description:
      'A signed HTTP request. A payload string that is a single placeholder keeps the value type (`"{{job.total}}"` sends a number).',
  });

export const actionSchema = z
  .discriminatedUnion('type', [smsAction, emailAction, webhookAction])
  .meta({ id: 'Action' });
export type Action = z.infer<typeof actionSchema>;
export type Recipient = z.infer<typeof recipientRef> | string;

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

/**
 * Fields the API sets; accepted back (GET then PUT round-trips, documents exported from elsewhere such
 * as the seed rules with their `_id`) and ignored. `accountId` always comes from the API key: one in
 * the body is never read.
 */
const ignored = z.unknown().optional().meta({ description: 'Set by the API; ignored when sent.' });
const readOnly = {
  id: ignored,
  _id: ignored,
  accountId: z.unknown().optional().meta({ description: "Ignored: the account is the API key's." }),
  version: ignored,
  createdAt: ignored,
  updatedAt: ignored,
  warnings: ignored,
};

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

const userFields = {
  externalId: z
    .string()
    .min(1)
    .max(200)
    .nullish()
    .meta({ description: "The CRM's id for this user; unique per account." }),
  name: z.string().max(200).nullish(),
  email: emailSchema.nullish(),
  phone: phoneSchema.nullish(),
  timezone: timezoneSchema.nullish(),
  attributes: jsonObject(
    MAX_USER_ATTRIBUTES_BYTES,
    'Free-form attributes, readable as {{user.attributes.x}}',
  ),
  preferences: z
    .object({ sms: z.boolean().optional(), email: z.boolean().optional() })
    .strict()
    .nullish()
    .meta({
      id: 'UserPreferences',
      description:
        'Channel consent: `false` suppresses that channel for messages addressed to this user’s own phone or email.',
    }),
};

export const userBodySchema = z
  .object({ ...userFields, attributes: userFields.attributes.default({}), ...readOnly })
  .strict()
  .meta({ id: 'UserInput' });
export type UserBody = z.infer<typeof userBodySchema>;
export const userPatchSchema = z
  .object({ ...userFields, ...readOnly })
  .partial()
  .strict()
  .meta({ id: 'UserPatch' });
export type UserPatch = z.infer<typeof userPatchSchema>;

export const userSchema = z
  .object({
    id: z.string(),
    externalId: z.string().nullable(),
    name: z.string().nullable(),
    email: z.string().nullable(),
    phone: z.string().nullable(),
    timezone: z.string().nullable(),
    attributes: z.record(z.string(), z.unknown()),
    preferences: z.object({ sms: z.boolean().optional(), email: z.boolean().optional() }),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'User' });

export const templateBodySchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    subject: template(500, 1),
    text: template(100_000).nullish(),
    html: template(200_000).nullish(),
    ...readOnly,
  })
  .strict()
  .refine((t) => t.text || t.html, { message: 'text or html required', path: ['text'] })
  .meta({
    id: 'EmailTemplateInput',
    description: 'Text, HTML or both. HTML placeholders are HTML-escaped when rendered.',
    anyOf: TEXT_OR_HTML,
  });
export type TemplateBody = z.infer<typeof templateBodySchema>;

export const templateSchema = z
  .object({
    id: templateIdSchema,
    name: z.string(),
    subject: z.string(),
    text: z.string().nullable(),
    html: z.string().nullable(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'EmailTemplate' });

// No `~`: retry ids use it (shared/constants.ts workflowIds.retry), so no event id can reach them.
export const EVENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;
export const eventSchema = z
  .object({
    id: z
      .string()
      .regex(EVENT_ID, 'must be 1-128 of A-Z a-z 0-9 . _ : -')
      .optional()
      .meta({ description: 'Your id for the event: sending it again is a no-op (duplicate).' }),
    name: eventName,
    occurredAt: z.iso.datetime({ offset: true }).optional(),
    userId: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .meta({ description: 'Our user id or the externalId; loads the `user` fact.' }),
    payload: z.record(z.string(), z.unknown()).meta({ description: 'Its top-level keys are the facts.' }),
  })
  .strict()
  .meta({ id: 'Event' });
export type EventInput = z.infer<typeof eventSchema>;

const dryRunEvent = eventSchema.omit({ id: true }).extend({ id: z.string().max(128).optional() });
export const dryRunSchema = z.object({ event: dryRunEvent }).strict().meta({ id: 'DryRunInput' });

/** POST /rules/test: an unsaved rule with the event, as `{rule, event}`. */
export const unsavedDryRunSchema = z.object({ rule: z.unknown(), event: dryRunEvent }).strict().meta({
  id: 'UnsavedDryRunInput',
  description:
    'The rule (a RuleInput) and the event. The rule fields may also be sent at the top level beside `event`.',
});

export const conditionResultSchema = z
  .object({
    fact: z.string(),
    path: z.string().nullable(),
    operator: z.string(),
    value: z.unknown(),
    factValue: z.unknown().meta({ description: 'The value read from the event or user (null when absent).' }),
    result: z
      .boolean()
      .nullable()
      .meta({ description: 'null when the engine did not need this condition to decide.' }),
  })
  .meta({ id: 'ConditionResult' });

const recipientUserId = z
  .string()
  .optional()
  .meta({ description: 'The event user, when this is their own phone or email: their preferences apply.' });

export const renderedActionSchema = z
  .union([
    z.object({
      index: z.number(),
      type: z.literal('sms'),
      to: z.string(),
      body: z.string(),
      userId: recipientUserId,
    }),
    z.object({
      index: z.number(),
      type: z.literal('email'),
      to: z.string(),
      subject: z.string(),
      text: z.string().optional(),
      html: z.string().optional(),
      userId: recipientUserId,
      transactional: z.boolean().optional(),
    }),
    z.object({
      index: z.number(),
      type: z.literal('webhook'),
      url: z.string(),
      method: z.enum(['POST', 'PUT', 'PATCH']),
      payload: z.unknown(),
    }),
    z.object({
      index: z.number(),
      type: z.enum(['sms', 'email', 'webhook']),
      error: z.string().meta({ description: 'Why this action could not be rendered for this event.' }),
    }),
  ])
  .meta({ id: 'RenderedAction' });

export const dryRunResultSchema = z
  .object({
    matched: z.boolean(),
    conditions: z.array(conditionResultSchema),
    actions: z
      .array(renderedActionSchema)
      .meta({ description: 'What a real run would send; nothing is sent.' }),
    userFound: z.boolean().nullable().meta({ description: 'null when the event names no user.' }),
    warnings: z.array(warningSchema).meta({
      description:
        'What the rule write would warn about, plus what this event shows (placeholders that rendered ' +
        'empty, conditions whose fact read null, a disabled rule, another event name, an SMS over 1,600 characters).',
    }),
    sendTime: sendTimeSchema.optional(),
  })
  .meta({ id: 'DryRunResult' });

/** `{items, nextCursor}` of a list endpoint. */
export const pageOf = (item: z.ZodType) =>
  z.object({
    items: z.array(item),
    nextCursor: z
      .string()
      .nullable()
      .meta({ description: 'Pass as `cursor` for the next page; null at the end.' }),
  });

export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(200).default(50).meta({ description: '1-200, default 50' }),
  cursor: z.string().max(200).optional().meta({ description: 'nextCursor of the previous page' }),
};

export const ruleListQuerySchema = z
  .object({
    ...pageQuery,
    eventName: z.string().max(200).optional(),
    enabled: z.enum(['true', 'false']).optional(),
  })
  .strict();

export const userListQuerySchema = z
  .object({ ...pageQuery, externalId: z.string().max(200).optional() })
  .strict();

export const templateListQuerySchema = z.object(pageQuery).strict();

/** Fact names a rule reads, so validation can reject references to facts that can never exist. */
export function ruleTemplateFacts(actions: Action[]): string[] {
  const out: string[] = [];
  for (const a of actions) {
    if (a.type === 'sms') out.push(...templateFacts(a.params.message));
    if (a.type === 'email')
      for (const t of [a.params.subject, a.params.text, a.params.html]) if (t) out.push(...templateFacts(t));
    if (a.type === 'webhook')
      for (const s of jsonStrings(a.params.payload)) out.push(...templateFacts(s.text));
  }
  return out;
}
