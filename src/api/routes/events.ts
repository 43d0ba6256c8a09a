import { createHash } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/client';
import { Router } from 'express';
import { z } from 'zod';
import type { Account } from '../../db/entities';
import { newId } from '../../shared/ids';
import { ApiError } from '../../shared/errors';
import { SEARCH_ATTRIBUTES, WORKFLOW_TYPES, workflowIds } from '../../shared/constants';
import { accountPriority } from '../../shared/priority';
import type { EventWorkflowInput } from '../../shared/run-types';
import { eventSchema } from '../../shared/schemas';
import { parseOrThrow } from '../../services/validation';
import { accountOf } from '../auth';
import { isTemporalUnavailable, temporalUnavailable } from '../temporal-unavailable';
import type { ApiDeps } from '../deps';
import { errors, requestBody, response, type OpenApiPaths } from '../openapi-helpers';
import { metrics } from '../../metrics';
import { EventQuota } from '../event-quota';
import { AccountGate } from '../in-flight';
import { catalogueOf } from '../../services/catalogue';

export const MAX_PAYLOAD_BYTES = 256 * 1024;
export const MAX_BATCH = 100;
// One budget for all of an event's Temporal calls (the start, then the read of a taken id's run), so a
// CRM gets an answer, a 503 at worst, within it even while a Temporal service restarts.
const TEMPORAL_DEADLINE_MS = 5000;
// How long an event may wait for its account's turn (src/api/in-flight.ts) before a 429. With the
// Temporal budget, POST /events answers within 8 s, inside the 10 s a CRM's sender commonly waits; a
// batch is paced through the same queue (100 events, a few starts at a time), so it may wait longer.
export const QUEUE_WAIT_MS = { event: 3000, batch: 20_000 };
export const batchSchema = z.object({ events: z.array(z.unknown()).min(1).max(MAX_BATCH) }).strict();

/**
 * What makes two sends of one event id the same event: name, user and payload (keys in any order).
 * Carried in the event workflow's memo and compared only when Temporal reports the id taken.
 */
export function eventContentHash(e: { name: string; userId?: string; payload: unknown }): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
          )
        : v;
  return createHash('sha256')
    .update(JSON.stringify([e.name, e.userId ?? null, canonical(e.payload)]))
    .digest('base64url');
}

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
        "Starts the event workflow: the account's enabled rules for this event name each get a rule run. The same `id` again with the same name, userId and payload is a duplicate (200) and runs nothing; with other content it is 409 `event_conflict`. Ids cannot contain `~`. " +
        "The answer comes within about 8 s: an event that waits more than 3 s for its turn among the account's starts in flight gets 429 `too_many_in_flight`, Temporal gets 5 s (then 503 `temporal_unavailable`); both carry `Retry-After`.",
      operationId: 'ingestEvent',
      requestBody: requestBody(eventSchema),
      responses: {
        '202': response(acceptedSchema, 'Accepted: the workflow started'),
        '200': response(acceptedSchema, 'Duplicate: this event id was already ingested (`duplicate: true`)'),
        ...errors(400, 401, 409, 413, 429, 503),
      },
    },
  },
  '/events/batch': {
    post: {
      tags: ['events'],
      summary: `Ingest up to ${MAX_BATCH} events`,
      description:
        'Each event is ingested as by POST /events; one result per event, in order. Every event counts against `EVENTS_RATE_LIMIT_PER_MINUTE`: those past it get a 429 `rate_limited` result (the others are taken) and the answer a `Retry-After` header. ' +
        'An account has at most EVENTS_MAX_IN_FLIGHT_PER_ACCOUNT starts in flight (the rest of a batch waits its turn, up to 20 s); events ' +
        'beyond what its queue holds, or still waiting after 20 s, get 429 `too_many_in_flight` with `retryAfterSeconds` in their own entry.',
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
                  retryAfterSeconds: z.number().int().optional().meta({
                    description: 'With a 429 or 503: re-send this event after that many seconds',
                  }),
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
  // Waiting room of a few batches: a CRM's batch is paced, a flood of them is answered 429.
  const gate = new AccountGate(config.EVENTS_MAX_IN_FLIGHT_PER_ACCOUNT, 4 * MAX_BATCH);
  const catalogue = catalogueOf(db, log);

  /**
   * Starts the event workflow under an id derived from (account, event id). Temporal refuses a second
   * start of the same id, which is what makes a repeated event a duplicate: no read-then-write race.
   */
  async function ingest(account: Account, input: unknown, waitUntil: number): Promise<IngestResult> {
    const body = parseOrThrow(eventSchema, input);
    if (Buffer.byteLength(JSON.stringify(body.payload)) > MAX_PAYLOAD_BYTES) {
      throw new ApiError(413, 'payload_too_large', `payload is larger than ${MAX_PAYLOAD_BYTES / 1024} KB`, [
        { path: 'payload', message: `at most ${MAX_PAYLOAD_BYTES} bytes` },
      ]);
    }
    const receivedAt = new Date().toISOString();
    const contentHash = eventContentHash(body);
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
    // Set once the account's gate lets the start run: time in its queue is pacing, not Temporal's.
    let deadline = 0;
    try {
      // With Temporal down the client would retry for ~20 s; a bounded wait lets the CRM retry instead.
      await gate.run(
        account.id,
        () =>
          temporal.withDeadline((deadline = Date.now() + TEMPORAL_DEADLINE_MS), () =>
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
              memo: { kind: 'event', contentHash },
              priority: accountPriority(account.id),
              staticSummary: `${body.name} ${eventId}`,
            }),
          ),
        waitUntil,
      );
      catalogue.observe(account.id, body.name, body.payload);
      metrics.eventsIngested.inc({ outcome: 'accepted' });
      return { status: 202, eventId, workflowId };
    } catch (err) {
      if (err instanceof ApiError && err.code === 'too_many_in_flight') {
        metrics.eventsIngested.inc({ outcome: 'in_flight_limited' });
        throw err;
      }
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw unavailableOr(err);
    }
    // The id is taken: a read only now, to tell a re-send from other content under the same id.
    const stored = await storedHash(workflowId, deadline).catch((err: unknown) => {
      throw unavailableOr(err);
    });
    if (stored !== null && stored !== contentHash) {
      metrics.eventsIngested.inc({ outcome: 'conflict' });
      throw new ApiError(
        409,
        'event_conflict',
        `event id "${eventId}" was already ingested with a different name, userId or payload`,
        [{ path: 'id', message: 'already used by another event; send new content under a new id' }],
      );
    }
    metrics.eventsIngested.inc({ outcome: 'duplicate' });
    return { status: 200, eventId, workflowId, duplicate: true };
  }

  /** The content hash of the run holding this id; null for runs started before hashes (a duplicate). */
  async function storedHash(workflowId: string, deadline: number): Promise<string | null> {
    const d = await temporal.withDeadline(deadline, () => temporal.workflow.getHandle(workflowId).describe());
    return typeof d.memo?.contentHash === 'string' ? d.memo.contentHash : null;
  }

  // An ApiError, so that a batch answers it per event: the CRM re-sends only what was not taken.
  function unavailableOr(err: unknown): unknown {
    if (!isTemporalUnavailable(err)) return err;
    log.warn({ err }, 'Temporal unavailable');
    return temporalUnavailable();
  }

  const quota = new EventQuota(config.EVENTS_RATE_LIMIT_PER_MINUTE);
  const rateLimited = (retryAfterSeconds: number) => {
    metrics.eventsIngested.inc({ outcome: 'rate_limited' });
    return new ApiError(
      429,
      'rate_limited',
      `more than ${config.EVENTS_RATE_LIMIT_PER_MINUTE} events a minute for this account; retry in ${retryAfterSeconds} s`,
      [],
      { 'Retry-After': String(retryAfterSeconds) },
    );
  };

  r.post('/events', async (req, res) => {
    const account = accountOf(res);
    const { granted, retryAfterSeconds } = quota.take(account.id, 1);
    if (!granted) throw rateLimited(retryAfterSeconds);
    const { status, ...result } = await ingest(account, req.body, Date.now() + QUEUE_WAIT_MS.event);
    res.status(status).json(result);
  });

  // Each event counts: the ones past the budget get a 429 result of their own, the others are taken.
  r.post('/events/batch', async (req, res) => {
    const { events } = parseOrThrow(batchSchema, req.body);
    const account = accountOf(res);
    const { granted, retryAfterSeconds } = quota.take(account.id, events.length);
    const waitUntil = Date.now() + QUEUE_WAIT_MS.batch;
    const results = await Promise.all(
      events.map((event, i) =>
        (i < granted
          ? ingest(account, event, waitUntil)
          : Promise.reject(rateLimited(retryAfterSeconds))
        ).catch((err: unknown) => {
          if (!(err instanceof ApiError)) throw err;
          const retryAfter = err.headers['Retry-After'];
          return {
            status: err.status,
            error: { code: err.code, message: err.message, details: err.details },
            // Per event: the CRM re-sends exactly these entries after that many seconds.
            ...(retryAfter !== undefined && { retryAfterSeconds: Number(retryAfter) }),
          };
        }),
      ),
    );
    const waits = results.map((x) => ('retryAfterSeconds' in x ? x.retryAfterSeconds : undefined));
    const wait = Math.max(0, ...waits.filter((w): w is number => w !== undefined));
    if (wait > 0) res.set('Retry-After', String(wait));
    res.status(200).json({ results });
  });
  return r;
}
