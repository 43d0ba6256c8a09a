/**
 * The one definition of what the API accepts: rules, users, templates and events. The API validates
 * with these, the activities re-validate stored rules with them, and GET /openapi.json is generated
 * from them (schemas with an `id` become named components). Rules, their conditions and actions have
 * modules of their own; this one re-exports them and holds users, templates, events and dry runs.
 */
import { z } from 'zod';
import {
  emailSchema,
  eventName,
  jsonObject,
  phoneSchema,
  readOnly,
  template,
  templateIdSchema,
  TEXT_OR_HTML,
  timezoneSchema,
} from './schema-parts';
import { sendTimeSchema } from './timing-schemas';
import { warningSchema } from './rule-schemas';

export * from './condition-schemas';
export * from './action-schemas';
export * from './rule-schemas';
export {
  emailSchema,
  eventName,
  isTimeZone,
  jsonBytes,
  phoneSchema,
  templateIdSchema,
  timezoneSchema,
} from './schema-parts';
export { DELAY_UNITS, MAX_DELAY_MS } from './timing-schemas';

export const MAX_USER_ATTRIBUTES_BYTES = 16_384;

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
