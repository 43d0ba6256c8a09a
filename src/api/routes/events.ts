import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/client';
import { Router, type Response } from 'express';
import rateLimit from 'express-rate-limit';
import { z } from 'zod';
import type { Account } from '../../db/entities';
import { newId } from '../../shared/ids';
import { ApiError } from '../../shared/errors';
import { SEARCH_ATTRIBUTES, WORKFLOW_TYPES, workflowIds } from '../../shared/constants';
import type { EventWorkflowInput } from '../../shared/run-types';
import { eventSchema } from '../../shared/schemas';
import { parseOrThrow } from '../../services/validation';
import { accountOf } from '../auth';
import { isTemporalUnavailable, temporalUnavailable } from '../temporal-unavailable';
import type { ApiDeps } from '../deps';
import { errors, requestBody, response, type OpenApiPaths } from '../openapi-helpers';
import { metrics } from '../../metrics';
import { catalogueOf } from '../../services/catalogue';

export const MAX_PAYLOAD_BYTES = 256 * 1024;
export const MAX_BATCH = 100;
const TEMPORAL_DEADLINE_MS = 5000;
export const batchSchema = z.object({ events: z.array(z.unknown()).min(1).max(MAX_BATCH) }).strict();

export interface IngestResult {
  status: 200 | 202;
  eventId: string;
  workflowId: string;
  duplicate?: true;
}

const acceptedSchema = z.object({
  eventId: z.string(),
  workflowId: z.string().meta({ description: 'The event workflow (GET /executions/{workflowId})' }),
  duplicate: z.literal(true).optional().meta({ description: 'Present when this event id was seen before' }),
});

export const eventsOpenApi: OpenApiPaths = {
  '/events': {
    post: {
      tags: ['events'],
      summary: 'Ingest an event',
      description:
        "Starts the event workflow: the account's enabled rules for this event name each get a rule run. The same `id` again is a duplicate (200) and runs nothing.",
      operationId: 'ingestEvent',
      requestBody: requestBody(eventSchema),
      responses: {
        '202': response(acceptedSchema, 'Accepted: the workflow started'),
        '200': response(acceptedSchema, 'Duplicate: this event id was already ingested (`duplicate: true`)'),
        ...errors(400, 401, 413, 429, 503),
      },
    },
  },
  '/events/batch': {
    post: {
      tags: ['events'],
      summary: `Ingest up to ${MAX_BATCH} events`,
      description: 'Each event is ingested as by POST /events; one result per event, in order.',
      operationId: 'ingestEvents',
      // Items are checked one by one (an invalid one is an error result, not a 400), so any JSON is accepted.
      requestBody: requestBody(
        z
          .object({
            events: z
              .array(
                z
                  .union([
                    eventSchema,
                    z.unknown().meta({ type: ['object', 'array', 'string', 'number', 'boolean', 'null'] }),
                  ])
                  .meta({
                    description: 'An Event; one that is not gets an error result in its place',
                  }),
              )
              .min(1)
              .max(MAX_BATCH),
          })
          .strict(),
      ),
      responses: {
        '200': response(
          z.object({
            results: z.array(
              z.union([
                acceptedSchema.extend({ status: z.union([z.literal(200), z.literal(202)]) }),
                z.object({
                  status: z.number().int(),
                  error: z.object({ code: z.string(), message: z.string(), details: z.array(z.unknown()) }),
                }),
              ]),
            ),
          }),
          'One result per event',
        ),
        ...errors(400, 401, 413, 429, 503),
      },
    },
  },
};

export function eventRoutes({ config, db, temporal, eagerStart, log }: ApiDeps): Router {
  const r = Router();
  const catalogue = catalogueOf(db, log);

  /**
   * Starts the event workflow under an id derived from (account, event id). Temporal refuses a second
   * start of the same id, which is what makes a repeated event a duplicate: no read-then-write race.
   */
  async function ingest(account: Account, input: unknown): Promise<IngestResult> {
    const body = parseOrThrow(eventSchema, input);
    if (Buffer.byteLength(JSON.stringify(body.payload)) > MAX_PAYLOAD_BYTES) {
      throw new ApiError(413, 'payload_too_large', `payload is larger than ${MAX_PAYLOAD_BYTES / 1024} KB`, [
        { path: 'payload', message: `at most ${MAX_PAYLOAD_BYTES} bytes` },
      ]);
    }
    const receivedAt = new Date().toISOString();
    const eventId = body.id ?? newId('evt');
    const workflowId = workflowIds.event(account.id, eventId);
    const args: EventWorkflowInput = {
      accountId: account.id,
      event: {
        id: eventId,
        name: body.name,
        occurredAt: body.occurredAt ?? receivedAt,
        receivedAt,
        ...(body.userId !== undefined && { userId: body.userId }),
        payload: body.payload,
      },
    };
    try {
      // With Temporal down the client would retry for ~20 s; a bounded wait lets the CRM retry instead.
      await temporal.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, () =>
        temporal.workflow.start(WORKFLOW_TYPES.event, {
          taskQueue: config.TEMPORAL_TASK_QUEUE,
          workflowId,
          args: [args],
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          requestEagerStart: eagerStart,
          typedSearchAttributes: [
            { key: SEARCH_ATTRIBUTES.AccountId, value: account.id },
            { key: SEARCH_ATTRIBUTES.EventName, value: body.name },
            { key: SEARCH_ATTRIBUTES.EventId, value: eventId },
          ],
          memo: { kind: 'event' },
          staticSummary: `${body.name} ${eventId}`,
        }),
      );
      catalogue.observe(account.id, body.name, body.payload);
      metrics.eventsIngested.inc({ outcome: 'accepted' });
      return { status: 202, eventId, workflowId };
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        metrics.eventsIngested.inc({ outcome: 'duplicate' });
        return { status: 200, eventId, workflowId, duplicate: true };
      }
      // An ApiError, so that a batch answers it per event: the CRM re-sends only what was not taken.
      if (isTemporalUnavailable(err)) {
        log.warn({ err }, 'Temporal unavailable');
        throw temporalUnavailable();
      }
      throw err;
    }
  }

  const limiter = rateLimit({
    windowMs: 60_000,
    limit: config.EVENTS_RATE_LIMIT_PER_MINUTE,
    skip: () => config.EVENTS_RATE_LIMIT_PER_MINUTE === 0,
    keyGenerator: (_req, res: Response) => accountOf(res).id,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    handler: (_req, _res, next, options) => {
      metrics.eventsIngested.inc({ outcome: 'rate_limited' });
      next(
        new ApiError(429, 'rate_limited', `more than ${options.limit} events a minute for this key`, [], {
          'Retry-After': String(Math.ceil(options.windowMs / 1000)),
        }),
      );
    },
  });

  r.post('/events', limiter, async (req, res) => {
    const { status, ...result } = await ingest(accountOf(res), req.body);
    res.status(status).json(result);
  });

  r.post('/events/batch', limiter, async (req, res) => {
    const { events } = parseOrThrow(batchSchema, req.body);
    const account = accountOf(res);
    const results = await Promise.all(
      events.map((event) =>
        ingest(account, event).catch((err: unknown) => {
          if (!(err instanceof ApiError)) throw err;
          return {
            status: err.status,
            error: { code: err.code, message: err.message, details: err.details },
          };
        }),
      ),
    );
    res.status(200).json({ results });
  });
  return r;
}
