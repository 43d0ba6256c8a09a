/**
 * Response and query types by path, read off the generated schema (never hand-copied): for the
 * responses whose schemas have no component name of their own.
 */
import type { paths } from './schema';

type Get<P extends keyof paths> = paths[P] extends { get: infer G } ? G : never;

/** The JSON body of a GET's 200 answer. */
export type GetOk<P extends keyof paths> =
  Get<P> extends { responses: { 200: { content: { 'application/json': infer T } } } } ? T : never;

/** The query parameters of a GET. */
export type GetQuery<P extends keyof paths> = Get<P> extends { parameters: { query?: infer Q } } ? Q : never;

export type Execution = GetOk<'/executions/{workflowId}'>;
export type ExecutionSummary = GetOk<'/executions'>['items'][number];
export type TimelineEntry = Execution['timeline'][number];
export type Outcome = NonNullable<ExecutionSummary['outcome']>;
export type DailyStats = GetOk<'/executions/stats/daily'>;
