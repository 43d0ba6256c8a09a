import { Router } from 'express';
import { z } from 'zod';
import { createAccount } from '../../services/accounts';
import { phoneSchema } from '../../shared/schemas';
import { parseOrThrow } from '../../services/validation';
import { requireAdmin } from '../auth';
import type { ApiDeps } from '../deps';
import { errors, requestBody, response, type OpenApiPaths } from '../openapi-helpers';

export const accountBodySchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    smsFrom: phoneSchema.optional().meta({
      description:
        'The account’s own Twilio number (E.164): its SMS go from it, and a STOP sent to it suppresses for this ' +
        'account only. Without it the account shares TWILIO_FROM / TWILIO_MESSAGING_SERVICE_SID.',
    }),
  })
  .strict();

export const accountsOpenApi: OpenApiPaths = {
  '/accounts': {
    post: {
      tags: ['accounts'],
      summary: 'Create an account (tenant)',
      description:
        'Needs the operator token (`ADMIN_TOKEN`). The API key is shown once, here: a `full` key named `default` (more keys, with narrower roles: POST /keys).',
      operationId: 'createAccount',
      security: [{ adminToken: [] }],
      requestBody: requestBody(accountBodySchema),
      responses: {
        '201': response(
          z.object({ id: z.string(), name: z.string(), apiKey: z.string(), webhookSecret: z.string() }),
          'The account, its API key and its webhook signing secret',
        ),
        ...errors(400, 401, 409, 429),
      },
    },
  },
};

export function accountRoutes({ db, config }: ApiDeps): Router {
  const r = Router();
  r.post('/accounts', requireAdmin(config.ADMIN_TOKEN), async (req, res) => {
    const { name, smsFrom } = parseOrThrow(accountBodySchema, req.body);
    res.status(201).json(await createAccount(db, name, smsFrom));
  });
  return r;
}
