import { Router, type Response } from 'express';
import { z } from 'zod';
import { catalogueOf } from '../../services/catalogue';
import { buildFacts, findUser, planRun, userFact, type PlanEvent } from '../../services/plan';
import { dryRunWarnings, ruleWarnings, type Warning } from '../../services/warnings';
import { sendTimeFor } from '../../services/send-time';
import { RuleService } from '../../services/rules';
import { RuleSchedules } from '../../services/schedules';
import { parseOrThrow, prefixDetails, validateRule, type RuleContext } from '../../services/validation';
import { workflowIds } from '../../shared/constants';
import { ApiError } from '../../shared/errors';
import { smsBodyWarnings } from '../../shared/sms';
import {
  dryRunResultSchema,
  dryRunSchema,
  pageOf,
  ruleBodySchema,
  ruleListQuerySchema,
  rulePatchSchema,
  ruleSchema,
  ruleWithWarningsSchema,
  unsavedDryRunSchema,
  type Rule,
  type RuleBody,
} from '../../shared/schemas';
import { accountOf, actorOf } from '../auth';
import type { ApiDeps } from '../deps';
import { ruleVersionRoutes } from './rule-versions';
import {
  errors,
  noContent,
  pathParameter,
  queryParameters,
  requestBody,
  response,
  type OpenApiPaths,
} from '../openapi-helpers';

/** The first example rule of the product's background documents. */
const EXAMPLE_RULE = {
  name: 'Notify Technician 5 Mins After Job Completion',
  description: "Sends an SMS to the assigned technician 5 minutes after a job's status is changed to 'Done'.",
  enabled: true,
  trigger: { eventName: 'job.status.changed' },
  delay: { value: 5, unit: 'minutes' },
  conditions: {
    all: [
      { fact: 'job', path: '$.status', operator: 'equal', value: 'Done' },
      { fact: 'job', path: '$.assignedTechnician.phone', operator: 'notEqual', value: null },
    ],
  },
  actions: [
    {
      type: 'sms',
      params: {
        recipient: { source: 'fact', fact: 'job', path: '$.assignedTechnician.phone' },
        message:
          'Hi {{job.assignedTechnician.name}}, job #{{job.number}} for {{job.client.name}} has been completed.',
      },
    },
  ],
};

function withExample<T extends { content: { 'application/json': Record<string, unknown> } }>(
  body: T,
  example: unknown,
): T {
  body.content['application/json'].example = example;
  return body;
}

const runNowResultSchema = z.object({ ruleId: z.string(), scheduleId: z.string() });
const ruleId = pathParameter('id', 'The rule id (`rule_…`)');
const tags = ['rules'];

export const rulesOpenApi: OpenApiPaths = {
  '/rules': {
    post: {
      tags,
      summary: 'Create a rule',
      description:
        'Validated whole: operators, paths (safe grammar only), templates, recipients, webhook targets and that every `templateId` exists.',
      operationId: 'createRule',
      requestBody: withExample(requestBody(ruleBodySchema), EXAMPLE_RULE),
      responses: {
        '201': response(ruleWithWarningsSchema, 'The rule, version 1, with warnings'),
        ...errors(400, 401, 413, 415, 503),
      },
    },
    get: {
      tags,
      summary: "List the account's rules",
      operationId: 'listRules',
      parameters: queryParameters(ruleListQuerySchema),
      responses: {
        '200': response(pageOf(ruleSchema), 'A page of rules, oldest first'),
        ...errors(400, 401),
      },
    },
  },
  '/rules/test': {
    post: {
      tags,
      summary: 'Dry-run an unsaved rule against an event',
      description: 'Nothing is saved or sent and no workflow starts.',
      operationId: 'testUnsavedRule',
      requestBody: requestBody(
        z.object({ rule: ruleBodySchema, event: dryRunSchema.shape.event }).strict(),
        'The rule and the event. The rule fields may also be sent at the top level beside `event`.',
      ),
      responses: {
        '200': response(dryRunResultSchema, 'What a run would decide and send'),
        ...errors(400, 401),
      },
    },
  },
  '/rules/{id}': {
    parameters: [ruleId],
    get: {
      tags,
      summary: 'Get a rule',
      operationId: 'getRule',
      responses: { '200': response(ruleSchema, 'The rule'), ...errors(401, 404) },
    },
    put: {
      tags,
      summary: 'Replace a rule (version + 1)',
      operationId: 'replaceRule',
      requestBody: requestBody(ruleBodySchema),
      responses: {
        '200': response(ruleWithWarningsSchema, 'The new version, with warnings'),
        ...errors(400, 401, 404, 503),
      },
    },
    patch: {
      tags,
      summary: 'Change some fields of a rule (version + 1)',
      description: 'The fields sent replace the stored ones; the merged rule is validated whole.',
      operationId: 'patchRule',
      requestBody: requestBody(rulePatchSchema),
      responses: {
        '200': response(ruleWithWarningsSchema, 'The new version, with warnings'),
        ...errors(400, 401, 404, 409, 503),
      },
    },
    delete: {
      tags,
      summary: 'Delete a rule',
      operationId: 'deleteRule',
      responses: { '204': noContent('Deleted'), ...errors(401, 404, 503) },
    },
  },
  '/rules/{id}/test': {
    parameters: [ruleId],
    post: {
      tags,
      summary: 'Dry-run a saved rule against an event',
      description:
        'Evaluates the conditions (each with the fact value it read) and renders the actions. Nothing is sent and no workflow starts.',
      operationId: 'testRule',
      requestBody: requestBody(dryRunSchema),
      responses: {
        '200': response(dryRunResultSchema, 'What a run would decide and send'),
        ...errors(400, 401, 404),
      },
    },
  },
  '/rules/{id}/run-now': {
    parameters: [ruleId],
    post: {
      tags,
      summary: 'Run a scheduled rule once now',
      description:
        "Triggers one tick of the rule's Temporal Schedule (`schedule-<ruleId>`) over the account's users. 409 for a rule without a schedule trigger or a disabled one.",
      operationId: 'runRuleNow',
      responses: {
        '202': response(runNowResultSchema, 'The tick was requested'),
        ...errors(401, 404, 409, 503),
      },
    },
  },
};

/** Ids the API hands out; anything else cannot name a rule (and never reaches a query). */
const ID = /^[A-Za-z0-9_-]{1,64}$/;
export function idParam(raw: unknown, what: string): string {
  if (typeof raw !== 'string' || !ID.test(raw)) throw ApiError.notFound(what);
  return raw;
}

/** The stored rule as a body again: what PATCH merges onto. */
function asBody(rule: Rule): Record<string, unknown> {
  const { id: _id, version: _v, createdAt: _c, updatedAt: _u, ...body } = rule;
  return body;
}

const MAX_PATCH_ATTEMPTS = 3;
const scheduled = (rule: Rule) => 'schedule' in rule.trigger;

export function rulesRoutes({ db, config, temporal, log }: ApiDeps): Router {
  const r = Router();
  const rules = new RuleService(db);
  const catalogue = catalogueOf(db, log);
  /** Checked against what the account's events of the rule's trigger looked like so far. */
  async function warningsFor(accountId: string, rule: RuleBody): Promise<Warning[]> {
    const eventName = 'eventName' in rule.trigger ? rule.trigger.eventName : null;
    return ruleWarnings(rule, eventName ? await catalogue.get(accountId, eventName) : null);
  }
  // Every rule write goes through the Schedule sync, so a scheduled rule's Temporal Schedule matches it.
  const schedules = new RuleSchedules(temporal, config);
  const ctx = (res: Response): RuleContext => ({
    db,
    accountId: accountOf(res).id,
    allowedHosts: config.WEBHOOK_ALLOWED_HOSTS,
  });

  /** The Schedule sync of a replace, inside its transaction: a failed sync leaves the rule as it was. */
  const syncAfter = (accountId: string, before: Rule) => async (rule: Rule) => {
    if (scheduled(before) || scheduled(rule)) await schedules.sync(accountId, rule);
  };

  async function dryRun(res: Response, rule: Rule, input: z.infer<typeof dryRunSchema>['event']) {
    const accountId = accountOf(res).id;
    const event: PlanEvent = {
      ...input,
      id: input.id ?? 'dry-run',
      occurredAt: input.occurredAt ?? new Date().toISOString(),
    };
    const plan = await planRun(db, accountId, rule, event);
    const warnings: Warning[] = [];
    const add = (code: string, path: string, message: string) => warnings.push({ code, path, message });
    if (!rule.enabled) add('rule_disabled', 'enabled', 'the rule is disabled: real events do not run it');
    if ('eventName' in rule.trigger && rule.trigger.eventName !== event.name) {
      add(
        'other_event',
        'trigger.eventName',
        `the rule triggers on "${rule.trigger.eventName}", not on "${event.name}"`,
      );
    }
    if ('schedule' in rule.trigger) {
      add(
        'scheduled',
        'trigger.schedule',
        'the rule runs on a schedule over the users; this dry run used the event given',
      );
    }
    if (plan.userFound === false) {
      add(
        'user_not_found',
        'event.userId',
        `no user "${event.userId}" in this account: the user fact is null`,
      );
    }
    warnings.push(...smsBodyWarnings(plan.actions));
    const user = plan.userFound ? await findUser(db, accountId, event.userId!) : null;
    const facts = buildFacts(event, user ? userFact(user) : null);
    warnings.push(...(await warningsFor(accountId, rule)), ...dryRunWarnings(rule, plan.conditions, facts));
    // Rules with an `until` delay or a window: when a run for this event, received now, would send.
    if ('until' in rule.delay || rule.window) {
      const now = Date.now();
      const sendTime = await sendTimeFor(
        db,
        accountId,
        rule,
        { ...event, id: event.id!, occurredAt: event.occurredAt!, receivedAt: new Date(now).toISOString() },
        now,
      );
      res.json({ ...plan, warnings, sendTime });
      return;
    }
    res.json({ ...plan, warnings });
  }

  r.post('/rules', async (req, res) => {
    const { accountId, keyId } = actorOf(res);
    const body = await validateRule(req.body, ctx(res));
    // No rule without its Schedule: a failed sync rolls the insert (and its audit entry) back.
    const rule = await rules.create(accountId, body, {
      keyId,
      then: async (created) => {
        if (scheduled(created)) await schedules.sync(accountId, created);
      },
    });
    res
      .status(201)
      .location(`/rules/${rule.id}`)
      .json({ ...rule, warnings: await warningsFor(accountId, rule) });
  });

  r.get('/rules', async (req, res) => {
    const q = parseOrThrow(ruleListQuerySchema, req.query);
    const page = await rules.list(
      accountOf(res).id,
      {
        ...(q.eventName !== undefined && { eventName: q.eventName }),
        ...(q.enabled !== undefined && { enabled: q.enabled === 'true' }),
      },
      { limit: q.limit, cursor: q.cursor },
    );
    res.json(page);
  });

  // An unsaved rule: `{rule, event}`, or the rule's fields at the top level beside `event`.
  r.post('/rules/test', async (req, res) => {
    const input: unknown = req.body;
    let ruleInput: unknown;
    let event: z.infer<typeof dryRunSchema>['event'];
    let prefix = '';
    if (input && typeof input === 'object' && !Array.isArray(input) && 'rule' in input) {
      ({ rule: ruleInput, event } = parseOrThrow(unsavedDryRunSchema, input));
      prefix = 'rule';
    } else {
      const { event: rawEvent, ...rest } = (
        input && typeof input === 'object' && !Array.isArray(input) ? input : {}
      ) as Record<string, unknown>;
      ({ event } = parseOrThrow(dryRunSchema, { event: rawEvent }));
      ruleInput = Array.isArray(input) || input === null || typeof input !== 'object' ? input : rest;
    }
    let body: RuleBody;
    try {
      body = await validateRule(ruleInput, ctx(res));
    } catch (err) {
      throw prefix ? prefixDetails(err, prefix) : err;
    }
    const now = new Date().toISOString();
    await dryRun(res, { ...body, id: 'unsaved', version: 0, createdAt: now, updatedAt: now }, event);
  });

  r.get('/rules/:id', async (req, res) => {
    res.json(await rules.get(accountOf(res).id, idParam(req.params.id, 'rule')));
  });

  r.put('/rules/:id', async (req, res) => {
    const { accountId, keyId } = actorOf(res);
    const id = idParam(req.params.id, 'rule');
    const before = await rules.get(accountId, id); // another account's rule is a 404 whatever the body
    const body = await validateRule(req.body, ctx(res));
    const rule = await rules.replace(accountId, id, body, undefined, {
      keyId,
      then: syncAfter(accountId, before),
    });
    res.json({ ...rule, warnings: await warningsFor(accountId, rule) });
  });

  r.patch('/rules/:id', async (req, res) => {
    const accountId = accountOf(res).id;
    const id = idParam(req.params.id, 'rule');
    let current = await rules.get(accountId, id);
    const patch = parseOrThrow(rulePatchSchema, req.body);
    const { id: _i, _id, accountId: _a, version: _v, createdAt: _c, updatedAt: _u, ...changes } = patch;
    // Merge onto the version read; if another edit lands in between, merge again onto the new one.
    for (let attempt = 1; ; attempt++) {
      const merged = await validateRule({ ...asBody(current), ...changes }, ctx(res));
      let rule: Rule;
      try {
        rule = await rules.replace(accountId, id, merged, current.version, {
          keyId: actorOf(res).keyId,
          then: syncAfter(accountId, current),
        });
      } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 409 || attempt >= MAX_PATCH_ATTEMPTS) throw err;
        current = await rules.get(accountId, id);
        continue;
      }
      res.json({ ...rule, warnings: await warningsFor(accountId, rule) });
      return;
    }
  });

  r.delete('/rules/:id', async (req, res) => {
    const { accountId, keyId } = actorOf(res);
    await rules.delete(accountId, idParam(req.params.id, 'rule'), {
      keyId,
      then: async (rule) => {
        if (scheduled(rule)) await schedules.remove(rule.id);
      },
    });
    res.status(204).end();
  });

  r.post('/rules/:id/test', async (req, res) => {
    const rule = await rules.get(accountOf(res).id, idParam(req.params.id, 'rule'));
    const { event } = parseOrThrow(dryRunSchema, req.body);
    await dryRun(res, rule, event);
  });

  r.post('/rules/:id/run-now', async (req, res) => {
    const rule = await rules.get(accountOf(res).id, idParam(req.params.id, 'rule'));
    await schedules.runNow(rule);
    res.status(202).json({ ruleId: rule.id, scheduleId: workflowIds.schedule(rule.id) });
  });

  r.use(ruleVersionRoutes({ rules, db, ctx, syncAfter }));
  return r;
}
