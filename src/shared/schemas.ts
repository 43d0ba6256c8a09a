/**
 * The one definition of what the API accepts: rules, users, templates and events. The API validates
 * with these, the activities re-validate stored rules with them, and GET /openapi.json is generated
 * from them.
 */
import { z } from 'zod';
import { parsePath } from './paths';
import { jsonStrings, parseTemplate, templateFacts } from './templates';

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

export const DELAY_UNITS = ['seconds', 'minutes', 'hours', 'days'] as const;
const UNIT_MS = { seconds: 1000, minutes: 60_000, hours: 3_600_000, days: 86_400_000 } as const;
export const MAX_DELAY_MS = 365 * UNIT_MS.days;
export const MAX_CONDITION_DEPTH = 5;

export const delayMs = (d: { value: number; unit: (typeof DELAY_UNITS)[number] }) =>
  d.value * UNIT_MS[d.unit];

const factName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be a fact name such as job or user');
const safePath = z
  .string()
  .max(256)
  .refine((p) => parsePath(p) !== null, 'must be a plain path such as $.a.b[0] (no filters or scripts)');
const template = (max: number) =>
  z
    .string()
    .max(max)
    .superRefine((text, ctx) => {
      try {
        parseTemplate(text);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `template does not parse: ${(err as Error).message}` });
      }
    });

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
  });

export type Condition = z.infer<typeof conditionSchema>;
export type ConditionTree = { all: ConditionNode[] } | { any: ConditionNode[] } | { not: ConditionNode };
export type ConditionNode = Condition | ConditionTree;

const nodeSchema: z.ZodType<ConditionNode> = z.lazy(() => z.union([conditionSchema, treeSchema]));
export const treeSchema: z.ZodType<ConditionTree> = z.lazy(() =>
  z.union([
    z.object({ all: z.array(nodeSchema).max(50) }).strict(),
    z.object({ any: z.array(nodeSchema).max(50) }).strict(),
    z.object({ not: nodeSchema }).strict(),
  ]),
);

export function conditionDepth(node: ConditionNode): number {
  if ('all' in node) return 1 + Math.max(0, ...node.all.map(conditionDepth));
  if ('any' in node) return 1 + Math.max(0, ...node.any.map(conditionDepth));
  if ('not' in node) return 1 + conditionDepth(node.not);
  return 0;
}

const E164 = /^\+[1-9]\d{6,14}$/;
export const phoneSchema = z.string().regex(E164, 'must be an E.164 phone number such as +15551234567');
export const emailSchema = z.email('must be a valid email address').max(254);

const recipientRef = z.discriminatedUnion('source', [
  z.object({ source: z.literal('fact'), fact: factName, path: safePath }).strict(),
  z.object({ source: z.literal('user'), field: z.enum(['phone', 'email']) }).strict(),
]);

const smsAction = z
  .object({
    type: z.literal('sms'),
    params: z
      .object({
        recipient: z.union([phoneSchema, recipientRef]),
        message: template(1600).pipe(z.string().min(1)),
      })
      .strict(),
  })
  .strict();

const emailAction = z
  .object({
    type: z.literal('email'),
    params: z
      .object({
        recipient: z.union([emailSchema, recipientRef]),
        templateId: z.string().optional(),
        subject: template(500).optional(),
        text: template(100_000).optional(),
        html: template(200_000).optional(),
      })
      .strict()
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
  .strict();

const webhookAction = z
  .object({
    type: z.literal('webhook'),
    params: z
      .object({
        url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048),
        method: z.enum(['POST', 'PUT', 'PATCH']).default('POST'),
        payload: z.record(z.string(), z.unknown()).default({}),
      })
      .strict()
      .superRefine((p, ctx) => {
        for (const s of jsonStrings(p.payload, 'payload')) {
          try {
            parseTemplate(s.text);
          } catch (err) {
            ctx.addIssue({
              code: 'custom',
              path: s.path.split('.'),
              message: `template does not parse: ${(err as Error).message}`,
            });
          }
        }
      }),
  })
  .strict();

export const actionSchema = z.discriminatedUnion('type', [smsAction, emailAction, webhookAction]);
export type Action = z.infer<typeof actionSchema>;
export type Recipient = z.infer<typeof recipientRef> | string;

const cronExpression = z
  .string()
  .regex(/^(\S+\s+){4}\S+$/, 'must be a five-field cron expression such as "0 9 * * MON"');
const timezone = z.string().refine(isTimeZone, 'must be an IANA time zone such as America/Chicago');

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const triggerSchema = z.union([
  z
    .object({
      eventName: z
        .string()
        .regex(/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/i, 'must be a dotted event name such as job.created')
        .max(200),
    })
    .strict(),
  z
    .object({ schedule: z.object({ cron: cronExpression, timezone: timezone.default('UTC') }).strict() })
    .strict(),
]);

export const delaySchema = z
  .object({ value: z.number().int().min(0), unit: z.enum(DELAY_UNITS) })
  .strict()
  .refine((d) => delayMs(d) <= MAX_DELAY_MS, { message: 'must be at most 365 days', path: ['value'] });

/** Fields the API adds; accepted back (GET then PUT round-trips) and ignored. */
const readOnly = {
  id: z.unknown().optional(),
  version: z.unknown().optional(),
  createdAt: z.unknown().optional(),
  updatedAt: z.unknown().optional(),
};

export const ruleBodySchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    description: z.string().max(2000).nullish(),
    enabled: z.boolean().default(true),
    trigger: triggerSchema,
    delay: delaySchema.default({ value: 0, unit: 'minutes' }),
    conditions: treeSchema.default({ all: [] }),
    actions: z.array(actionSchema).min(1).max(10),
    ...readOnly,
  })
  .strict()
  .superRefine((rule, ctx) => {
    if (conditionDepth(rule.conditions) > MAX_CONDITION_DEPTH) {
      ctx.addIssue({
        code: 'custom',
        path: ['conditions'],
        message: `nesting deeper than ${MAX_CONDITION_DEPTH}`,
      });
    }
  });

export type RuleBody = z.infer<typeof ruleBodySchema>;
export const rulePatchSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    description: z.string().max(2000).nullable(),
    enabled: z.boolean(),
    trigger: triggerSchema,
    delay: delaySchema,
    conditions: treeSchema,
    actions: z.array(actionSchema).min(1).max(10),
  })
  .partial()
  .strict();

export type Rule = RuleBody & { id: string; version: number; createdAt: string; updatedAt: string };

export const userBodySchema = z
  .object({
    externalId: z.string().min(1).max(200).nullish(),
    name: z.string().max(200).nullish(),
    email: emailSchema.nullish(),
    phone: phoneSchema.nullish(),
    timezone: timezone.nullish(),
    attributes: z
      .record(z.string(), z.unknown())
      .default({})
      .refine((a) => JSON.stringify(a).length <= 16_384, 'must be at most 16 KB as JSON'),
    ...readOnly,
  })
  .strict();
export type UserBody = z.infer<typeof userBodySchema>;

export const templateBodySchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    subject: template(500).pipe(z.string().min(1)),
    text: template(100_000).nullish(),
    html: template(200_000).nullish(),
    ...readOnly,
  })
  .strict()
  .refine((t) => t.text || t.html, { message: 'text or html required', path: ['text'] });
export type TemplateBody = z.infer<typeof templateBodySchema>;
export const templateIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,99}$/, 'must be a slug: lowercase letters, digits and dashes');

export const EVENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;
export const eventSchema = z
  .object({
    id: z.string().regex(EVENT_ID, 'must be 1-128 of A-Z a-z 0-9 . _ : -').optional(),
    name: z
      .string()
      .regex(/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/i, 'must be a dotted event name such as job.created')
      .max(200),
    occurredAt: z.iso.datetime({ offset: true }).optional(),
    userId: z.string().min(1).max(200).optional(),
    payload: z.record(z.string(), z.unknown()),
  })
  .strict();
export type EventInput = z.infer<typeof eventSchema>;

export const dryRunSchema = z
  .object({ event: eventSchema.omit({ id: true }).extend({ id: z.string().max(128).optional() }) })
  .strict();

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
