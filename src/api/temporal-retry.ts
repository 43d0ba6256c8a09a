/**
 * The Temporal client's gRPC retries, kept inside the call's deadline. The SDK's default retry
 * interceptor backs off up to 5 s between attempts without looking at the deadline, so a start given
 * 5 s (`client.withDeadline`) could answer 10 s after it began, the last retry failing at once with
 * DEADLINE_EXCEEDED. Here a backoff never outlasts the time left: the call ends by its deadline.
 */
import {
  defaultGrpcRetryOptions,
  makeGrpcRetryInterceptor,
  type ConnectionOptions,
} from '@temporalio/client';

type Interceptor = NonNullable<ConnectionOptions['interceptors']>[number];

/** Backoff before the next attempt, at most the time left before `deadline` (epoch ms). */
export function backoffWithin(deadline: number, backoffMs: number, now = Date.now()): number {
  return Math.max(0, Math.min(backoffMs, deadline - now));
}

export function retryWithinDeadline(): Interceptor {
  const defaults = defaultGrpcRetryOptions();
  return (options, nextCall) => {
    const d = options.deadline;
    const deadline = d === undefined ? Infinity : typeof d === 'number' ? d : d.getTime();
    return makeGrpcRetryInterceptor({
      retryableDecider: (attempt, status) =>
        Date.now() < deadline && defaults.retryableDecider(attempt, status),
      delayFunction: (attempt, status) => backoffWithin(deadline, defaults.delayFunction(attempt, status)),
    })(options, nextCall);
  };
}
