/**
 * Records a run's outcome as the `Outcome` search attribute when it ends, so that visibility can list
 * and count runs by what they did (GET /executions?outcome=, GET /executions/stats).
 */
import { ContinueAsNew, isCancellation, patched, upsertSearchAttributes } from '@temporalio/workflow';
import { SEARCH_ATTRIBUTES } from '../shared/constants';
import { outcomeOfResult, type OutcomeSource, type RunOutcomeName } from '../shared/outcomes';

/** Runs recorded before this patch ended without the upsert: replaying them must not add a command. */
export const OUTCOME_SEARCH_ATTRIBUTE = 'outcome-search-attribute';

function upsertOutcome(outcome: RunOutcomeName): void {
  // A command, not an await: it goes out with the run's last workflow task even while the run is
  // being cancelled, so no non-cancellable scope is needed.
  if (patched(OUTCOME_SEARCH_ATTRIBUTE))
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.Outcome, value: outcome }]);
}

/**
 * Runs `run` and upserts its outcome when it returns or throws: cancellation (through the API) is
 * `cancelled`, any other failure `failed`; continue-as-new is no end.
 */
export async function recordingOutcome<T extends OutcomeSource>(run: () => Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await run();
  } catch (err) {
    if (!(err instanceof ContinueAsNew)) upsertOutcome(isCancellation(err) ? 'cancelled' : 'failed');
    throw err;
  }
  upsertOutcome(outcomeOfResult(result));
  return result;
}
