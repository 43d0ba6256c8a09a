import { Router } from 'express';
import { UserService } from '../../services/users';
import { parseOrThrow } from '../../services/validation';
import {
  pageOf,
  userBodySchema,
  userListQuerySchema,
  userPatchSchema,
  userSchema,
} from '../../shared/schemas';
import { accountOf, keyOf } from '../auth';
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

const tags = ['users'];
const userId = pathParameter('id', 'The user id (`user_…`), not the externalId');

export const usersOpenApi: OpenApiPaths = {
  '/users': {
    post: {
      tags,
      summary: 'Create a user',
      description: 'An event naming this user (`userId`: the id or the externalId) gets the `user` fact.',
      operationId: 'createUser',
      requestBody: requestBody(userBodySchema),
      responses: {
        '201': response(userSchema, 'The user'),
        ...errors(400, 401, 409),
      },
    },
    get: {
      tags,
      summary: "List the account's users",
      operationId: 'listUsers',
      parameters: queryParameters(userListQuerySchema),
      responses: {
        '200': response(pageOf(userSchema), 'A page of users, oldest first'),
        ...errors(400, 401),
      },
    },
  },
  '/users/{id}': {
    parameters: [userId],
    get: {
      tags,
      summary: 'Get a user',
      operationId: 'getUser',
      responses: { '200': response(userSchema, 'The user'), ...errors(401, 404) },
    },
    put: {
      tags,
      summary: 'Replace a user (fields not sent are cleared)',
      operationId: 'replaceUser',
      requestBody: requestBody(userBodySchema),
      responses: { '200': response(userSchema, 'The user'), ...errors(400, 401, 404, 409) },
    },
    patch: {
      tags,
      summary: 'Change some fields of a user',
      description: 'Fields sent replace the stored ones (`attributes` as a whole); null clears a field.',
      operationId: 'patchUser',
      requestBody: requestBody(userPatchSchema),
      responses: { '200': response(userSchema, 'The user'), ...errors(400, 401, 404, 409) },
    },
    delete: {
      tags,
      summary: 'Delete a user',
      operationId: 'deleteUser',
      responses: { '204': noContent('Deleted'), ...errors(401, 404) },
    },
  },
};

export function usersRoutes({ db }: ApiDeps): Router {
  const r = Router();
  const users = new UserService(db);

  r.post('/users', async (req, res) => {
    const body = parseOrThrow(userBodySchema, req.body);
    const user = await users.create(accountOf(res).id, body, keyOf(res).id);
    res.status(201).location(`/users/${user.id}`).json(user);
  });

  r.get('/users', async (req, res) => {
    const q = parseOrThrow(userListQuerySchema, req.query);
    const filters = q.externalId !== undefined ? { externalId: q.externalId } : {};
    res.json(await users.list(accountOf(res).id, filters, { limit: q.limit, cursor: q.cursor }));
  });

  r.get('/users/:id', async (req, res) => {
    res.json(await users.get(accountOf(res).id, idParam(req.params.id, 'user')));
  });

  r.put('/users/:id', async (req, res) => {
    const accountId = accountOf(res).id;
    const id = idParam(req.params.id, 'user');
    await users.get(accountId, id);
    res.json(await users.replace(accountId, id, parseOrThrow(userBodySchema, req.body), keyOf(res).id));
  });

  r.patch('/users/:id', async (req, res) => {
    const accountId = accountOf(res).id;
    const id = idParam(req.params.id, 'user');
    await users.get(accountId, id);
    res.json(await users.patch(accountId, id, parseOrThrow(userPatchSchema, req.body), keyOf(res).id));
  });

  r.delete('/users/:id', async (req, res) => {
    await users.delete(accountOf(res).id, idParam(req.params.id, 'user'), keyOf(res).id);
    res.status(204).end();
  });

  return r;
}
