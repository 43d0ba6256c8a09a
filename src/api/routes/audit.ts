/** GET /audit: the account's trail of changes (services/audit.ts). */
import { Router } from 'express';
import { auditEntrySchema, auditQuerySchema, listAudit } from '../../services/audit';
import { parseOrThrow } from '../../services/validation';
import { pageOf } from '../../shared/schemas';
import { accountOf } from '../auth';
import type { ApiDeps } from '../deps';
import { errors, queryParameters, response, type OpenApiPaths } from '../openapi-helpers';

export const auditOpenApi: OpenApiPaths = {
  '/audit': {
    get: {
      tags: ['audit'],
      summary: 'The audit trail: every change to rules, templates, users, keys and account settings',
      description:
        'Each entry names the key that made the change, when, the entity, the action, the version and the entity before and after. Deleted rules keep their history here.',
      operationId: 'listAudit',
      parameters: queryParameters(auditQuerySchema),
      responses: {
        '200': response(pageOf(auditEntrySchema), 'A page of entries, oldest first'),
        ...errors(400, 401, 403),
      },
    },
  },
};

export function auditRoutes({ db }: ApiDeps): Router {
  const r = Router();
  r.get('/audit', async (req, res) => {
    res.json(await listAudit(db, accountOf(res).id, parseOrThrow(auditQuerySchema, req.query)));
  });
  return r;
}
