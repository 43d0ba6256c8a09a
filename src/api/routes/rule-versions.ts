/**
 * A rule's versions, read from the audit trail (each rule entry holds the whole rule):
 * GET /rules/:id/versions, GET /rules/:id/versions/:version, POST …/:version/restore.
 */
import { Router, type Response } from 'express';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { ruleVersion, ruleVersions } from '../../services/audit';
import { pageQuerySchema } from '../../services/pagination';
import type { RuleService } from '../../services/rules';
import { parseOrThrow, validateRule, type RuleContext } from '../../services/validation';
import { ApiError } from '../../shared/errors';
import { pageOf, ruleSchema, type Rule } from '../../shared/schemas';
import { actorOf } from '../auth';
import { errors, pathParameter, queryParameters, response, type OpenApiPaths } from '../openapi-helpers';
import { idParam } from './rules';

const versionSummarySchema = z
  .object({
    version: z.number().int(),
    action: z.string().meta({
      description:
        '`create`, `update`, `restore` or `snapshot` (the version a rule had when the trail began)',
    }),
    at: z.string(),
    keyId: z.string().nullable().meta({ description: 'The key that made this version (null: the operator)' }),
  })
  .meta({ id: 'RuleVersion' });

const tags = ['rules'];
const params = [
  pathParameter('id', 'The rule id (`rule_…`)'),
  pathParameter('version', 'A version number of the rule', { type: 'integer', minimum: 1 }),
];

export const ruleVersionsOpenApi: OpenApiPaths = {
  '/rules/{id}/versions': {
    parameters: [params[0]],
    get: {
      tags,
      summary: "A rule's versions, oldest first",
      description:
        'Every version written since the audit trail exists. A deleted rule is a 404 here; its history stays in GET /audit.',
      operationId: 'listRuleVersions',
      parameters: queryParameters(pageQuerySchema),
      responses: {
        '200': response(pageOf(versionSummarySchema), 'A page of versions'),
        ...errors(400, 401, 403, 404),
      },
    },
  },
  '/rules/{id}/versions/{version}': {
    parameters: params,
    get: {
      tags,
      summary: 'The whole rule as it was at one version',
      operationId: 'getRuleVersion',
      responses: { '200': response(ruleSchema, 'The rule at that version'), ...errors(401, 403, 404) },
    },
  },
  '/rules/{id}/versions/{version}/restore': {
    parameters: params,
    post: {
      tags,
      summary: 'Make a new version with the content of an old one',
      description:
        'Validated again as a PUT would be (a template it names may be gone: 400), and the Schedule of a scheduled rule follows.',
      operationId: 'restoreRuleVersion',
      responses: { '200': response(ruleSchema, 'The new version'), ...errors(400, 401, 403, 404, 503) },
    },
  },
};

const versionParam = (raw: unknown): number => {
  const n = typeof raw === 'string' && /^\d{1,9}$/.test(raw) ? Number(raw) : 0;
  if (n < 1) throw ApiError.notFound('rule version');
  return n;
};

export function ruleVersionRoutes(deps: {
  rules: RuleService;
  db: DataSource;
  ctx: (res: Response) => RuleContext;
  syncAfter: (accountId: string, before: Rule) => (rule: Rule) => Promise<void>;
}): Router {
  const { rules, db, ctx, syncAfter } = deps;
  const r = Router();

  r.get('/rules/:id/versions', async (req, res) => {
    const { accountId } = actorOf(res);
    const rule = await rules.get(accountId, idParam(req.params.id, 'rule'));
    const page = await ruleVersions(db, accountId, rule.id, parseOrThrow(pageQuerySchema, req.query));
    res.json({
      items: page.items.map((e) => ({ version: e.version, action: e.action, at: e.at, keyId: e.keyId })),
      nextCursor: page.nextCursor,
    });
  });

  r.get('/rules/:id/versions/:version', async (req, res) => {
    const { accountId } = actorOf(res);
    const rule = await rules.get(accountId, idParam(req.params.id, 'rule'));
    res.json((await ruleVersion(db, accountId, rule.id, versionParam(req.params.version))).after);
  });

  r.post('/rules/:id/versions/:version/restore', async (req, res) => {
    const { accountId, keyId } = actorOf(res);
    const current = await rules.get(accountId, idParam(req.params.id, 'rule'));
    const old = (await ruleVersion(db, accountId, current.id, versionParam(req.params.version)))
      .after as Rule;
    const { id: _i, version: _v, createdAt: _c, updatedAt: _u, ...content } = old;
    const body = await validateRule(content, ctx(res));
    const rule = await rules.replace(accountId, current.id, body, current.version, {
      keyId,
      action: 'restore',
      then: syncAfter(accountId, current),
    });
    res.json(rule);
  });
  return r;
}
