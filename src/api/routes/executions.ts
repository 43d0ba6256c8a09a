/**
 * The execution log, read from Temporal (visibility and workflow history), scoped to the API key's
 * account: GET /executions, GET /executions/:workflowId, POST …/cancel and POST …/retry.
 */
import { Router } from 'express';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { DeliveryEntity } from '../../db/entities';
import type { DeliveryDto } from '../../services/executions/schemas';
import {
  cancelResponseSchema,
  executionDetailSchema,
  executionListSchema,
  ExecutionService,
  listQuerySchema,
  retryResponseSchema,
  statsQuerySchema,
  statsSchema,
  executionStats,
  dailyStatsQuerySchema,
  dailyStatsSchema,
  dailyExecutionStats,
} from '../../services/executions';
import { temporalUiUrl } from '../../config';
import { parseOrThrow } from '../../services/validation';
import { accountOf } from '../auth';
import type { ApiDeps } from '../deps';
import { errors, json, jsonSchema, queryParameters, type OpenApiPaths } from '../openapi-helpers';

const workflowIdParam = {
  name: 'workflowId',
  in: 'path',
  required: true,
  description: 'e.g. run-rule_k3v9x0q2m1zt-evt_123 (a rule run) or event-acc_…-evt_123 (an event run)',
  schema: { type: 'string' },
};

const listParams = Object.entries(
  (jsonSchema(listQuerySchema) as { properties: Record<string, Record<string, unknown>> }).properties,
).map(([name, schema]) => ({ name, in: 'query', required: false, schema }));

export const executionsOpenApi: OpenApiPaths = {
  '/executions': {
    get: {
      tags: ['executions'],
      summary: "The account's rule runs and event runs",
      description:
        'Read from Temporal visibility, which is eventually consistent: a run appears a moment after it ' +
        'starts. Newest first in the order Temporal visibility keeps (running runs, then by close time). ' +
        '`kind` tells event runs from rule runs, `outcome` what a run came to. Page with `limit` and the ' +
        '`nextCursor` of the last page. The log reaches back as far as the namespace keeps closed runs ' +
        '(`retention`, set by TEMPORAL_RETENTION, default 30 days): older runs are gone from Temporal.',
      operationId: 'listExecutions',
      parameters: listParams,
      responses: {
        '200': { description: 'a page of executions', ...json(jsonSchema(executionListSchema, 'output')) },
        ...errors(400, 401, 503),
      },
    },
  },
  '/executions/stats': {
    get: {
      tags: ['executions'],
      summary: 'Runs per rule and outcome in a time range',
      description:
        'Counted by Temporal visibility (`Outcome` search attribute), never by reading histories; runs ' +
        'recorded before the attribute existed are not counted. Eventually consistent, like the list.',
      operationId: 'getExecutionStats',
      parameters: queryParameters(statsQuerySchema),
      responses: {
        '200': { description: 'counts per outcome', ...json(jsonSchema(statsSchema, 'output')) },
        ...errors(400, 401, 503),
      },
    },
  },
  '/executions/stats/daily': {
    get: {
      tags: ['executions'],
      summary: 'Runs per calendar day and outcome (the Runs page chart)',
      description:
        'Counted like `/executions/stats` (visibility COUNT queries, eventually consistent), per day in the ' +
        "given time zone or the account's, the last day being today so far.",
      operationId: 'getDailyExecutionStats',
      parameters: queryParameters(dailyStatsQuerySchema),
      responses: {
        '200': { description: 'counts per day and outcome', ...json(jsonSchema(dailyStatsSchema, 'output')) },
        ...errors(400, 401, 503),
      },
    },
  },
  '/executions/{workflowId}': {
    get: {
      tags: ['executions'],
      summary: 'One run: status, rule, event, result and its timeline, decoded from the workflow history',
      operationId: 'getExecution',
      parameters: [workflowIdParam],
      responses: {
        '200': { description: 'the execution', ...json(jsonSchema(executionDetailSchema, 'output')) },
        ...errors(401, 404, 503),
      },
    },
  },
  '/executions/{workflowId}/cancel': {
    post: {
      tags: ['executions'],
      summary: 'Cancel a running run (sleeping or retrying)',
      operationId: 'cancelExecution',
      parameters: [workflowIdParam],
      responses: {
        '202': { description: 'cancellation requested', ...json(jsonSchema(cancelResponseSchema, 'output')) },
        ...errors(401, 404, 409, 503),
      },
    },
  },
  '/executions/{workflowId}/retry': {
    post: {
      tags: ['executions'],
      summary: 'Run a failed, terminated or timed-out rule run again',
      operationId: 'retryExecution',
      description:
        'Starts a new rule run `<run>~retry-<n>` for the same rule and event, linked to the old one ' +
        "(`~` cannot appear in event ids, so no event ever maps to a retry's id; retries made before this " +
        'form, `<run>-retry-<n>`, stay readable and retryable) ' +
        '(`retryOf`). The old run and its history are left as they are (unlike Temporal reset). The rule is ' +
        're-read, so the current version is used; its delay has already elapsed, so the run acts at once.',
      parameters: [workflowIdParam],
      responses: {
        '202': { description: 'the new run', ...json(jsonSchema(retryResponseSchema, 'output')) },
        ...errors(401, 404, 409, 503),
      },
    },
  },
};

const params = z.object({ workflowId: z.string() });

/** The ledger rows of a run, with each one's latest provider receipt (one indexed read). */
async function deliveriesOf(db: DataSource, accountId: string, workflowId: string): Promise<DeliveryDto[]> {
  const rows = await db
    .getRepository(DeliveryEntity)
    .find({ where: { accountId, workflowId }, order: { actionIndex: 'ASC' } });
  return rows.map((d) => ({
    actionIndex: d.actionIndex,
    channel: d.channel,
    providerId: d.providerId,
    deliveredAt: d.deliveredAt.toISOString(),
    status: d.status,
    statusAt: d.statusAt ? d.statusAt.toISOString() : null,
    errorCode: d.errorCode,
  }));
}

export function executionsRoutes({ config, db, temporal }: ApiDeps): Router {
  const r = Router();
  const executions = new ExecutionService(temporal, config.TEMPORAL_TASK_QUEUE);

  r.get('/executions', async (req, res) => {
    const q = parseOrThrow(listQuerySchema, req.query);
    res.json(await executions.list(accountOf(res).id, q));
  });

  r.get('/executions/stats', async (req, res) => {
    const q = parseOrThrow(statsQuerySchema, req.query);
    res.json(await executionStats(temporal, db, accountOf(res).id, q));
  });

  r.get('/executions/stats/daily', async (req, res) => {
    const q = parseOrThrow(dailyStatsQuerySchema, req.query);
    const account = accountOf(res);
    res.json(await dailyExecutionStats(temporal, account.id, account.timezone, q));
  });

  const uiBase = temporalUiUrl(config);
  r.get('/executions/:workflowId', async (req, res) => {
    const { workflowId } = parseOrThrow(params, req.params);
    const accountId = accountOf(res).id;
    const detail = await executions.get(accountId, workflowId);
    res.json({
      ...detail,
      deliveries: await deliveriesOf(db, accountId, workflowId),
      temporalUiUrl: uiBase
        ? `${uiBase}/namespaces/${encodeURIComponent(config.TEMPORAL_NAMESPACE)}/workflows/${encodeURIComponent(workflowId)}/${encodeURIComponent(detail.runId)}/history`
        : null,
    });
  });

  r.post('/executions/:workflowId/cancel', async (req, res) => {
    const { workflowId } = parseOrThrow(params, req.params);
    res.status(202).json(await executions.cancel(accountOf(res).id, workflowId));
  });

  r.post('/executions/:workflowId/retry', async (req, res) => {
    const { workflowId } = parseOrThrow(params, req.params);
    res.status(202).json(await executions.retry(accountOf(res).id, workflowId));
  });

  return r;
}
