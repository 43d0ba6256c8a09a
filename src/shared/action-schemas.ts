/**
 * Rule actions: SMS, email and webhook, each with its templates and recipient, as the API accepts them.
 */
import { z } from 'zod';
import {
  emailSchema,
  factName,
  factPathProblem,
  jsonObject,
  nonEmpty,
  phoneSchema,
  safePath,
  template,
  templateIdSchema,
  TEXT_OR_HTML,
} from './schema-parts';
import { jsonStrings, jsonStringsAt, parseTemplate, templateFacts } from './templates';

export const MAX_ACTIONS = 10;
export const MAX_WEBHOOK_PAYLOAD_BYTES = 65_536;

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
