/**
 * GET /outbox: the messages of channels that are not configured (no SMTP_URL, no TWILIO_*), as the
 * run rendered them, so the product can be tried without an SMTP server or a Twilio account.
 */
import { Router } from 'express';
import { z } from 'zod';
import { OutboxEntity, type OutboxMessage } from '../../db/entities';
import { pageQuerySchema, paginate } from '../../services/pagination';
import { parseOrThrow } from '../../services/validation';
import { accountOf } from '../auth';
import type { ApiDeps } from '../deps';
import { errors, json, jsonSchema, type OpenApiPaths } from '../openapi-helpers';

export const OUTBOX_CHANNELS = ['sms', 'email', 'webhook'] as const;

export const outboxQuerySchema = pageQuerySchema.extend({
  channel: z.enum(OUTBOX_CHANNELS).optional(),
});

export const outboxMessageSchema = z.object({
  id: z.string(),
  channel: z.enum(OUTBOX_CHANNELS),
  recipient: z.string().describe('phone number, email address or URL'),
  subject: z.string().nullable().describe('email only'),
  body: z.string().nullable().describe('the SMS text, or the email text part'),
  html: z.string().nullable().describe('the email HTML part'),
  payload: z.unknown().describe('a webhook body; null for SMS and email'),
  workflowId: z.string().describe('the rule run that sent it (GET /executions/{workflowId})'),
  ruleId: z.string().nullable(),
  createdAt: z.string().describe('ISO 8601'),
});
export type OutboxMessageDto = z.infer<typeof outboxMessageSchema>;

const pageSchema = z.object({
  items: z.array(outboxMessageSchema),
  nextCursor: z.string().nullable(),
});

export function toOutboxDto(m: OutboxMessage): OutboxMessageDto {
  return {
    id: m.id,
    channel: m.channel as OutboxMessageDto['channel'],
    recipient: m.recipient,
    subject: m.subject,
    body: m.body,
    html: m.html,
    payload: m.payload ?? null,
    workflowId: m.workflowId,
    ruleId: m.ruleId,
    createdAt: m.createdAt.toISOString(),
  };
}

export const outboxOpenApi: OpenApiPaths = {
  '/outbox': {
    get: {
      tags: ['outbox'],
      operationId: 'listOutbox',
      summary: "List the account's outbox",
      description:
        'Messages that were not sent because their channel is not configured (no SMTP_URL, no TWILIO_*), ' +
        'oldest first, with their rendered content and the run that produced them.',
      parameters: [
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 } },
        {
          name: 'cursor',
          in: 'query',
          schema: { type: 'string' },
          description: 'nextCursor of the previous page',
        },
        { name: 'channel', in: 'query', schema: { type: 'string', enum: [...OUTBOX_CHANNELS] } },
      ],
      responses: {
        '200': { description: 'a page of messages', ...json(jsonSchema(pageSchema, 'output')) },
        ...errors(400, 401),
      },
    },
  },
};

export function outboxRoutes({ db }: ApiDeps): Router {
  const r = Router();
  r.get('/outbox', async (req, res) => {
    const query = parseOrThrow(outboxQuerySchema, req.query);
    const qb = db
      .getRepository(OutboxEntity)
      .createQueryBuilder('o')
      .where('o.account_id = :accountId', { accountId: accountOf(res).id });
    if (query.channel) qb.andWhere('o.channel = :channel', { channel: query.channel });
    res.json(await paginate(qb, query, toOutboxDto));
  });
  return r;
}
