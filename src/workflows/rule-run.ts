/**
 * One rule run: for one event and one matched rule, wait the rule's delay durably, re-read the rule,
 * evaluate its conditions and deliver its actions. Every step lands in history, which is the
 * execution log.
 */
import {
  ApplicationFailure,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  sleep,
  upsertMemo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { FAILURE_TYPES, workflowIds } from '../shared/constants';
import type { RuleRunInput, RuleRunResult, RunEvent } from '../shared/run-types';
import { runAction } from './actions';
import { recordingOutcome } from './outcome';
import { followRun } from './follow';

/** Runs recorded before this patch called prepareRun as a (remote) activity. */
export const PREPARE_RUN_LOCAL = 'prepare-run-local';

const prepareOptions = {
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
} as const;
const remote = proxyActivities<Activities>(prepareOptions);
// A few indexed reads: as a local activity it runs inside the workflow task that the delay's end (or
// the start) brings, and its answer is still recorded in history (a marker) for replay and the log.
const local = proxyLocalActivities<Activities>(prepareOptions);

export async function ruleRunWorkflow(input: RuleRunInput): Promise<RuleRunResult> {
  return recordingOutcome(async () => {
    // Only rules with a key, an `until` delay or a window carry `follow`: other runs, and every run
    // recorded before it existed, take the per-event path unchanged (no patch needed).
    const result = input.rule.follow ? await followRun(input) : await eventRun(input);
    // Every run ends here, whatever its outcome.
    return end(result);
  });
}

async function eventRun(input: RuleRunInput): Promise<RuleRunResult> {
  const { rule, event } = input;
  // The delay is measured from ingest, not from when this run happened to start.
  const wait = rule.delayMs - (Date.now() - Date.parse(event.receivedAt));
  if (wait > 0) {
    setCurrentDetails(
      `Waiting ${rule.delayText} after ${event.name} (event ${event.id}), then checking rule ${rule.name}.`,
    );
    await sleep(wait, { summary: `wait ${rule.delayText}` });
  }
  return deliver(input, event);
}

/**
 * Re-reads the rule, evaluates its conditions for `event` and delivers its actions. Keys come from
 * (rule, the event sent for): a retry of a failed run repeats its event and skips what it delivered,
 * and a keyed run re-armed by a later event gets keys of its own.
 */
export async function deliver(input: RuleRunInput, event: RunEvent): Promise<RuleRunResult> {
  const { rule } = input;
  const { prepareRun } = patched(PREPARE_RUN_LOCAL) ? local : remote;
  const prepared = await prepareRun.executeWithOptions({ summary: 're-read rule, evaluate conditions' }, [
    { accountId: input.accountId, ruleId: rule.id, event },
  ]);
  if (prepared.status === 'skipped') {
    setCurrentDetails(`Skipped: ${prepared.reason}`);
    return { outcome: 'skipped', ruleId: rule.id, ruleVersion: null, reason: prepared.reason, actions: [] };
  }
  if (prepared.ruleVersion !== rule.version)
    upsertMemo({ ruleName: prepared.ruleName, ruleVersion: prepared.ruleVersion });
  if (!prepared.matched) {
    setCurrentDetails('Conditions not met: nothing sent.');
    return { outcome: 'conditions_not_met', ruleId: rule.id, ruleVersion: prepared.ruleVersion, actions: [] };
  }

  setCurrentDetails(`Delivering ${prepared.actions.length} action(s).`);
  // Actions are independent: one failing does not stop the others.
  const keyPrefix = workflowIds.ruleRun(rule.id, event.id);
  const actions = await Promise.all(
    prepared.actions.map((a) => runAction(input.accountId, rule.id, keyPrefix, a)),
  );
  const failed = actions.filter((a) => a.outcome === 'failed');
  return {
    outcome: failed.length ? 'failed' : 'sent',
    ruleId: rule.id,
    ruleVersion: prepared.ruleVersion,
    actions,
  };
}

function end(result: RuleRunResult): RuleRunResult {
  const { actions } = result;
  if (result.outcome === 'failed') {
    const failed = actions.filter((a) => a.outcome === 'failed');
    setCurrentDetails(`Failed: ${failed.map((a) => `action ${a.index}: ${a.error}`).join('; ')}`);
    // Failing the run makes it show as failed in the Temporal UI; the summary travels in the details.
    throw ApplicationFailure.create({
      type: FAILURE_TYPES.actionsFailed,
      message: `${failed.length} of ${actions.length} action(s) failed: ${failed.map((a) => a.error).join('; ')}`,
      nonRetryable: true,
      details: [result],
    });
  }
  if (result.outcome === 'sent')
    setCurrentDetails(`Sent ${actions.length} action(s).${result.reason ? ` ${result.reason}` : ''}`);
  return result;
}
