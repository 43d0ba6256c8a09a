/**
 * A run's outcome for the execution log: the `Outcome` search attribute when the run recorded it, else
 * (runs recorded before it) derived from the status and, for a completed run, its result.
 */
import type { Client } from '@temporalio/client';
import {
  outcomeOfResult,
  RUN_OUTCOMES,
  type OutcomeSource,
  type RunOutcomeName,
} from '../../shared/outcomes';
import type { ExecutionKind, ExecutionStatus } from './schemas';
import type { PayloadDecoder } from './history-values';

/** temporal.api.enums.v1.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT */
const CLOSE_EVENT = 2;

const isOutcome = (v: unknown): v is RunOutcomeName => (RUN_OUTCOMES as readonly unknown[]).includes(v);

export function outcomeFromResult(result: unknown): RunOutcomeName | null {
  const r = result as Partial<OutcomeSource> | null | undefined;
  return r && typeof r.outcome === 'string' ? outcomeOfResult(r as OutcomeSource) : null;
}

interface Row {
  kind: ExecutionKind;
  status: ExecutionStatus;
  attribute: unknown;
  workflowId: string;
  runId: string;
}

/**
 * Only a completed run without the attribute costs a call: its close event alone (one small history
 * page), never the whole history.
 */
export async function runOutcome(
  client: Client,
  decode: PayloadDecoder,
  row: Row,
  result?: () => Promise<unknown>,
): Promise<RunOutcomeName | null> {
  if (isOutcome(row.attribute)) return row.attribute;
  if (row.kind !== 'rule-run' && row.kind !== 'scheduled-tick') return null;
  if (row.status === 'failed' || row.status === 'timed_out') return 'failed';
  if (row.status === 'cancelled') return 'cancelled';
  if (row.status !== 'completed') return null;
  if (result) return outcomeFromResult(await result());
  const page = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId: row.workflowId, runId: row.runId },
    historyEventFilterType: CLOSE_EVENT,
  });
  const completed = page.history?.events?.[0]?.workflowExecutionCompletedEventAttributes;
  return outcomeFromResult(await decode(completed?.result?.payloads?.[0]));
}
