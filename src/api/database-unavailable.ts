import { ApiError } from '../shared/errors';

/** Connection-level failures: refused, reset, shutting down or starting up, no connection in time. */
const CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, recovering)
  '08000',
  '08001',
  '08003',
  '08006',
]);
const MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/;

/** PostgreSQL cannot be reached (node-postgres errors, possibly wrapped by TypeORM as driverError). */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (
    let e = err as { code?: unknown; message?: unknown; cause?: unknown; driverError?: unknown } | undefined,
      depth = 0;
    e && depth < 4;
    e = (e.driverError ?? e.cause) as typeof e, depth++
  ) {
    if (typeof e.code === 'string' && CODES.has(e.code)) return true;
    if (typeof e.message === 'string' && MESSAGES.test(e.message)) return true;
  }
  return false;
}

/** What a caller gets while the database is down (a restart, a failover): try again shortly. */
export const databaseUnavailable = () =>
  new ApiError(503, 'database_unavailable', 'the database is not reachable; retry later', [], {
    'Retry-After': '5',
  });
