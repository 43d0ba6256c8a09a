import { Router } from 'express';
import { z } from 'zod';
import { createAccount } from '../../services/accounts';
import { parseOrThrow } from '../../services/validation';
import { requireAdmin } from '../auth';
import type { ApiDeps } from '../deps';
import type { OpenApiPaths } from '../openapi-helpers';

export const accountsOpenApi: OpenApiPaths = {};

export const accountBodySchema = z.object({ name: z.string().trim().min(1).max(200) }).strict();

export function accountRoutes({ db, config }: ApiDeps): Router {
  const r = Router();
  r.post('/accounts', requireAdmin(config.ADMIN_TOKEN), async (req, res) => {
    const { name } = parseOrThrow(accountBodySchema, req.body);
    res.status(201).json(await createAccount(db, name));
  });
  return r;
}
