import { Router } from 'express';
import type { ApiDeps } from '../deps';
import { z } from 'zod';
import { response, type OpenApiPaths } from '../openapi-helpers';

const readySchema = z.object({
  status: z.enum(['ok', 'unavailable']),
  checks: z.object({ database: z.string(), temporal: z.string() }).meta({ description: '"ok" or the error' }),
});

export const healthOpenApi: OpenApiPaths = {
  '/healthz': {
    get: {
      tags: ['operations'],
      summary: 'Liveness: the API process answers',
      operationId: 'healthz',
      security: [],
      responses: { '200': response(z.object({ status: z.literal('ok') }), 'Alive') },
    },
  },
  '/readyz': {
    get: {
      tags: ['operations'],
      summary: 'Readiness: PostgreSQL and Temporal are reachable',
      operationId: 'readyz',
      security: [],
      responses: {
        '200': response(readySchema, 'Ready'),
        '503': response(
          readySchema.extend({
            error: z.object({ code: z.string(), message: z.string(), details: z.array(z.unknown()) }),
          }),
          'Not ready; `error.message` names what is down',
        ),
      },
    },
  },
};

export function healthRoutes({ db, temporal }: ApiDeps): Router {
  const r = Router();
  r.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  /** 503 naming what is down, so an orchestrator and an operator both see why. */
  r.get('/readyz', async (_req, res) => {
    const timeout = <T>(p: Promise<T>) =>
      Promise.race([
        p,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timed out')), 2000)),
      ]);
    const checks = await Promise.all([
      timeout(db.query('SELECT 1')).then(
        () => ['database', 'ok'],
        (e: Error) => ['database', e.message],
      ),
      // A deadline, not only a race: the client would otherwise keep retrying in the background.
      temporal
        .withDeadline(Date.now() + 2000, () => temporal.connection.workflowService.getSystemInfo({}))
        .then(
          () => ['temporal', 'ok'],
          (e: Error) => ['temporal', e.message],
        ),
    ]);
    const down = checks.filter(([, status]) => status !== 'ok').map(([name]) => name);
    const body = { status: down.length ? 'unavailable' : 'ok', checks: Object.fromEntries(checks) };
    if (down.length) {
      res
        .status(503)
        .json({ ...body, error: { code: 'not_ready', message: `down: ${down.join(', ')}`, details: [] } });
    } else {
      res.json(body);
    }
  });
  return r;
}
