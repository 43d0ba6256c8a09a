/**
 * The event catalogue (src/services/catalogue): GET /event-types, GET /event-types/:name and
 * DELETE /event-types/:name, scoped to the API key's account.
 */
import { Router } from 'express';
import { z } from 'zod';
import { catalogueOf, MAX_ARRAY_ITEMS, MAX_DEPTH, MAX_PATHS } from '../../services/catalogue';
import { ApiError } from '../../shared/errors';
import { eventName } from '../../shared/schemas';
import { accountOf } from '../auth';
import type { ApiDeps } from '../deps';
import { errors, noContent, pathParameter, response, type OpenApiPaths } from '../openapi-helpers';

const summarySchema = z.object({
  name: z.string(),
  count: z.number().int().describe('events of this name ingested (accepted, not duplicates)'),
  firstSeen: z.string().describe('ISO 8601'),
  lastSeen: z.string().describe('ISO 8601'),
  pathCount: z.number().int(),
  truncated: z.boolean().describe(`more than ${MAX_PATHS} paths were seen: some are not listed`),
});
const pathSchema = z.object({
  fact: z.string().describe('a top-level key of the payload'),
  path: z.string().describe('under the fact, as a rule writes it; array items are `[*]`'),
  types: z.array(z.enum(['string', 'number', 'boolean', 'null', 'object', 'array'])),
  example: z
    .union([z.string(), z.number(), z.boolean(), z.null()])
    .describe(
      'a recent value (phone numbers, email addresses and secrets masked); null for objects and arrays',
    ),
});
const detailSchema = summarySchema.extend({ paths: z.array(pathSchema) });

const nameParam = pathParameter('name', 'The event name, e.g. job.created');

export const eventTypesOpenApi: OpenApiPaths = {
  '/event-types': {
    get: {
      tags: ['events'],
      summary: 'The event names this account has sent, with counts',
      description:
        'The event catalogue: ingest records the shape of each payload (aggregated in memory and written ' +
        `every few seconds). At most ${MAX_PATHS} paths per event type, the first ${MAX_ARRAY_ITEMS} items ` +
        `of each array and ${MAX_DEPTH} levels under a fact are recorded.`,
      operationId: 'listEventTypes',
      responses: {
        '200': response(z.object({ items: z.array(summarySchema) }), 'Every event type seen'),
        ...errors(401),
      },
    },
  },
  '/event-types/{name}': {
    get: {
      tags: ['events'],
      summary: 'One event type: each fact and path seen, its JSON types and a masked example',
      operationId: 'getEventType',
      parameters: [nameParam],
      responses: { '200': response(detailSchema, 'The event type'), ...errors(401, 404) },
    },
    delete: {
      tags: ['events'],
      summary: 'Forget an event type (it is recorded afresh when the event is seen again)',
      operationId: 'deleteEventType',
      parameters: [nameParam],
      responses: { '204': noContent('Forgotten'), ...errors(401, 404) },
    },
  },
};

const params = z.object({ name: eventName });
const notFound = () => ApiError.notFound('event type');

export function eventTypesRoutes({ db, log }: ApiDeps): Router {
  const r = Router();
  const catalogue = catalogueOf(db, log);

  r.get('/event-types', async (_req, res) => {
    res.json({ items: await catalogue.list(accountOf(res).id) });
  });

  r.get('/event-types/:name', async (req, res) => {
    const parsed = params.safeParse(req.params);
    const detail = parsed.success ? await catalogue.get(accountOf(res).id, parsed.data.name) : null;
    if (!detail) throw notFound();
    res.json(detail);
  });

  r.delete('/event-types/:name', async (req, res) => {
    const parsed = params.safeParse(req.params);
    if (!parsed.success || !(await catalogue.forget(accountOf(res).id, parsed.data.name))) throw notFound();
    res.status(204).end();
  });
  return r;
}
