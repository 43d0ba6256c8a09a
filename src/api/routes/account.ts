/**
 * The caller's own account (the API key's; app.ts puts /account behind requireAccount): its settings,
 * such as the timezone of send windows.
 */
import { Router, type Response } from 'express';
import { z } from 'zod';
import { AccountEntity, type Account } from '../../db/entities';
import { recordAudit } from '../../services/audit';
import { parseOrThrow } from '../../services/validation';
import { timezoneSchema } from '../../shared/schemas';
import { ROLES } from '../../services/keys';
import { accountOf, actorOf, keyOf, type CallerKey } from '../auth';
import type { ApiDeps } from '../deps';
import { errors, requestBody, response, type OpenApiPaths } from '../openapi-helpers';

const tags = ['account'];

export const accountSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    timezone: z.string().meta({
      description:
        'For send windows with `timezone: "user"` when the event has no user or the user no timezone.',
    }),
    createdAt: z.iso.datetime(),
    key: z
      .object({ id: z.string(), name: z.string(), role: z.enum(ROLES) })
      .meta({ description: 'The key making this request: what it may do (the web app hides the rest)' }),
  })
  .meta({ id: 'Account' });

export const accountPatchSchema = z
  .object({ name: z.string().trim().min(1).max(200), timezone: timezoneSchema })
  .partial()
  .strict()
  .meta({ id: 'AccountPatch' });

export const accountOpenApi: OpenApiPaths = {
  '/account': {
    get: {
      tags,
      summary: "The caller's account",
      operationId: 'getAccount',
      responses: { '200': response(accountSchema, 'The account'), ...errors(401) },
    },
    patch: {
      tags,
      summary: "Change the caller's account (name, timezone)",
      operationId: 'updateAccount',
      requestBody: requestBody(accountPatchSchema),
      responses: { '200': response(accountSchema, 'The account'), ...errors(400, 401) },
    },
  },
};

const view = (a: Account, k: CallerKey) => ({
  id: a.id,
  name: a.name,
  timezone: a.timezone,
  createdAt: a.createdAt.toISOString(),
  key: { id: k.id, name: k.name, role: k.role },
});

export function accountSelfRoutes({ db }: ApiDeps): Router {
  const r = Router();
  // Read fresh: the API-key lookup caches the account for a few seconds.
  const load = (res: Response) => db.getRepository(AccountEntity).findOneByOrFail({ id: accountOf(res).id });
  r.get('/account', async (_req, res) => {
    res.json(view(await load(res), keyOf(res)));
  });
  r.patch('/account', async (req, res) => {
    const patch = parseOrThrow(accountPatchSchema, req.body);
    const { id } = accountOf(res);
    if (Object.keys(patch).length)
      await db.transaction(async (m) => {
        const before = await m.getRepository(AccountEntity).findOneByOrFail({ id });
        await m.getRepository(AccountEntity).update({ id }, patch);
        await recordAudit(m, {
          ...actorOf(res),
          entity: 'account',
          entityId: id,
          action: 'update',
          before: { timezone: before.timezone },
          after: patch,
        });
      });
    res.json(view(await load(res), keyOf(res)));
  });
  return r;
}
