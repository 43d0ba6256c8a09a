/** The account's suppression list: GET/POST /suppressions, DELETE /suppressions/:id. */
import { Router } from 'express';
import { z } from 'zod';
import { SUPPRESSION_CHANNELS, SuppressionService } from '../../services/suppressions';
import { parseOrThrow } from '../../services/validation';
import { pageOf, pageQuery } from '../../shared/schemas';
import { accountOf, actorOf } from '../auth';
import type { ApiDeps } from '../deps';
import {
  errors,
  noContent,
  pathParameter,
  queryParameters,
  requestBody,
  response,
  type OpenApiPaths,
} from '../openapi-helpers';
import { idParam } from './rules';

export const suppressionBodySchema = z
  .object({
    channel: z.enum(SUPPRESSION_CHANNELS),
    address: z
      .string()
      .trim()
      .min(1)
      .max(254)
      .meta({ description: 'A phone number (stored as E.164) or an email address (stored lower-case)' }),
    reason: z.string().trim().max(500).nullish(),
  })
  .strict()
  .meta({ id: 'SuppressionInput' });

export const suppressionSchema = z
  .object({
    id: z.string(),
    channel: z.enum(SUPPRESSION_CHANNELS),
    address: z.string().describe('normalised: E.164, or a lower-case email address'),
    reason: z.string().nullable(),
    source: z
      .enum(['api', 'sms_keyword', 'unsubscribe'])
      .describe('api: added here; sms_keyword: a STOP by SMS; unsubscribe: a one-click unsubscribe'),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'Suppression' });

export const suppressionListQuerySchema = z
  .object({
    ...pageQuery,
    channel: z.enum(SUPPRESSION_CHANNELS).optional(),
    address: z.string().max(254).optional().meta({ description: 'Matched after normalising it' }),
  })
  .strict();

const tags = ['suppressions'];

export const suppressionsOpenApi: OpenApiPaths = {
  '/suppressions': {
    get: {
      tags,
      summary: "List the account's suppressed addresses",
      operationId: 'listSuppressions',
      parameters: queryParameters(suppressionListQuerySchema),
      responses: {
        '200': response(pageOf(suppressionSchema), 'A page of suppressions, oldest first'),
        ...errors(400, 401),
      },
    },
    post: {
      tags,
      summary: 'Suppress an address',
      description:
        'SMS and email to this address are skipped at send time (the action ends `suppressed`). ' +
        'An address already suppressed answers 200 with the existing entry.',
      operationId: 'createSuppression',
      requestBody: requestBody(suppressionBodySchema),
      responses: {
        '201': response(suppressionSchema, 'Suppressed'),
        '200': response(suppressionSchema, 'Already suppressed'),
        ...errors(400, 401),
      },
    },
  },
  '/suppressions/{id}': {
    parameters: [pathParameter('id', 'The suppression id (`sup_…`)')],
    delete: {
      tags,
      summary: 'Lift a suppression',
      operationId: 'deleteSuppression',
      responses: { '204': noContent('Lifted'), ...errors(401, 404) },
    },
  },
};

export function suppressionsRoutes({ db }: ApiDeps): Router {
  const r = Router();
  const service = new SuppressionService(db);

  r.get('/suppressions', async (req, res) => {
    const { channel, address, limit, cursor } = parseOrThrow(suppressionListQuerySchema, req.query);
    res.json(await service.list(accountOf(res).id, { channel, address }, { limit, cursor }));
  });

  r.post('/suppressions', async (req, res) => {
    const body = parseOrThrow(suppressionBodySchema, req.body);
    const { created, suppression } = await service.create(accountOf(res).id, actorOf(res).keyId, body);
    res.status(created ? 201 : 200).json(suppression);
  });

  r.delete('/suppressions/:id', async (req, res) => {
    await service.delete(accountOf(res).id, actorOf(res).keyId, idParam(req.params.id, 'suppression'));
    res.status(204).end();
  });

  return r;
}
