import { Router } from 'express';
import { z } from 'zod';
import { TemplateService } from '../../services/templates';
import { parseOrThrow } from '../../services/validation';
import { ApiError } from '../../shared/errors';
import {
  pageOf,
  templateBodySchema,
  templateIdSchema,
  templateListQuerySchema,
  templateSchema,
} from '../../shared/schemas';
import { accountOf, keyOf } from '../auth';
import type { ApiDeps } from '../deps';
import {
  errors,
  jsonSchema,
  noContent,
  pathParameter,
  queryParameters,
  requestBody,
  response,
  type OpenApiPaths,
} from '../openapi-helpers';

const tags = ['templates'];
const templateId = pathParameter(
  'id',
  "The account's own slug, e.g. `new-high-value-job-template`",
  jsonSchema(templateIdSchema),
);

export const templatesOpenApi: OpenApiPaths = {
  '/templates': {
    get: {
      tags,
      summary: "List the account's email templates",
      operationId: 'listTemplates',
      parameters: queryParameters(templateListQuerySchema),
      responses: {
        '200': response(pageOf(templateSchema), 'A page of templates, oldest first'),
        ...errors(400, 401),
      },
    },
  },
  '/templates/{id}': {
    parameters: [templateId],
    put: {
      tags,
      summary: 'Create or replace an email template',
      operationId: 'putTemplate',
      requestBody: requestBody(templateBodySchema),
      responses: {
        '200': response(templateSchema, 'Replaced'),
        '201': response(templateSchema, 'Created'),
        ...errors(400, 401),
      },
    },
    get: {
      tags,
      summary: 'Get an email template',
      operationId: 'getTemplate',
      responses: { '200': response(templateSchema, 'The template'), ...errors(401, 404) },
    },
    delete: {
      tags,
      summary: 'Delete an email template',
      description: "409 while a rule's email action uses it; `details` name each such rule and action.",
      operationId: 'deleteTemplate',
      responses: { '204': noContent('Deleted'), ...errors(401, 404, 409) },
    },
  },
};

const templateIdParams = z.object({ id: templateIdSchema });

/** A template id in the URL: on reads a non-slug names nothing (404); on PUT it is a 400. */
function slug(raw: unknown): string | null {
  return templateIdSchema.safeParse(raw).success ? (raw as string) : null;
}

export function templatesRoutes({ db }: ApiDeps): Router {
  const r = Router();
  const templates = new TemplateService(db);

  r.get('/templates', async (req, res) => {
    const q = parseOrThrow(templateListQuerySchema, req.query);
    res.json(await templates.list(accountOf(res).id, { limit: q.limit, cursor: q.cursor }));
  });

  r.put('/templates/:id', async (req, res) => {
    const { id } = parseOrThrow(templateIdParams, { id: req.params.id });
    const body = parseOrThrow(templateBodySchema, req.body);
    const { template, created } = await templates.put(accountOf(res).id, id, body, keyOf(res).id);
    res.status(created ? 201 : 200).json(template);
  });

  r.get('/templates/:id', async (req, res) => {
    const id = slug(req.params.id);
    if (!id) throw ApiError.notFound('template');
    res.json(await templates.get(accountOf(res).id, id));
  });

  r.delete('/templates/:id', async (req, res) => {
    const id = slug(req.params.id);
    if (!id) throw ApiError.notFound('template');
    await templates.delete(accountOf(res).id, id, keyOf(res).id);
    res.status(204).end();
  });

  return r;
}
