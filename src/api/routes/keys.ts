/** The account's API keys (POST/GET/DELETE /keys) and the caller's own key (GET /keys/current). */
import { Router } from 'express';
import { KeyService, createdKeySchema, keyBodySchema, keySchema } from '../../services/keys';
import { pageQuerySchema } from '../../services/pagination';
import { parseOrThrow } from '../../services/validation';
import { pageOf } from '../../shared/schemas';
import { accountOf, actorOf, forgetKey, keyOf } from '../auth';
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

const tags = ['keys'];

export const keysOpenApi: OpenApiPaths = {
  '/keys': {
    post: {
      tags,
      summary: 'Create an API key',
      description: 'The key is shown once, in this answer; only its hash is stored.',
      operationId: 'createKey',
      requestBody: requestBody(keyBodySchema),
      responses: { '201': response(createdKeySchema, 'The key, with its secret'), ...errors(400, 401, 403) },
    },
    get: {
      tags,
      summary: "List the account's API keys (no secrets)",
      operationId: 'listKeys',
      parameters: queryParameters(pageQuerySchema),
      responses: {
        '200': response(pageOf(keySchema), 'A page of keys, oldest first'),
        ...errors(400, 401, 403),
      },
    },
  },
  '/keys/current': {
    get: {
      tags,
      summary: 'The key this request authenticates with (its role tells the UI what it may do)',
      operationId: 'getCurrentKey',
      responses: { '200': response(keySchema, "The caller's key"), ...errors(401) },
    },
  },
  '/keys/{id}': {
    parameters: [pathParameter('id', 'The key id (`key_…`)')],
    delete: {
      tags,
      summary: 'Revoke an API key',
      description:
        "The key answers 401 from then on: at once on this API process, within 30 s (the auth cache) on others. The account's last `full` key cannot be revoked (409 `last_full_key`).",
      operationId: 'revokeKey',
      responses: { '204': noContent('Revoked'), ...errors(401, 403, 404, 409) },
    },
  },
};

export function keysRoutes({ db }: ApiDeps): Router {
  const r = Router();
  const keys = new KeyService(db);

  r.post('/keys', async (req, res) => {
    const body = parseOrThrow(keyBodySchema, req.body);
    res.status(201).json(await keys.create(actorOf(res), body));
  });

  r.get('/keys', async (req, res) => {
    res.json(await keys.list(accountOf(res).id, parseOrThrow(pageQuerySchema, req.query)));
  });

  r.get('/keys/current', async (_req, res) => {
    res.json(await keys.get(accountOf(res).id, keyOf(res).id));
  });

  r.delete('/keys/:id', async (req, res) => {
    forgetKey(await keys.revoke(actorOf(res), idParam(req.params.id, 'key')));
    res.status(204).end();
  });
  return r;
}
