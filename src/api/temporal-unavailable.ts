import { NamespaceNotFoundError, ServiceError } from '@temporalio/client';
import { ApiError } from '../shared/errors';

/**
 * gRPC UNAVAILABLE (14) or DEADLINE_EXCEEDED (4) from the Temporal client, possibly wrapped. Also
 * "namespace not found": a cluster's frontend answers that while its PostgreSQL is down (the cluster
 * drill's PostgreSQL kill found it), and a namespace that really is missing is no client error either.
 */
export function isTemporalUnavailable(err: unknown): boolean {
  if (err instanceof NamespaceNotFoundError) return true;
  for (
    let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0;
    e && depth < 4;
    e = e.cause as typeof e, depth++
  ) {
    if (e.code === 14 || e.code === 4) return true;
  }
  return err instanceof ServiceError;
}

/** What a caller gets when Temporal cannot be reached: try again shortly. */
export const temporalUnavailable = () =>
  new ApiError(503, 'temporal_unavailable', 'Temporal is not reachable; retry later', [], {
    'Retry-After': '5',
  });
