/**
 * One rule run: for one event and one matched rule, wait the rule's delay durably, re-read the rule,
 * evaluate its conditions and deliver its actions. Every step lands in history, which is the
 * execution log.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  proxyActivities,
  setCurrentDetails,
  sleep,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { FAILURE_TYPES } from '../shared/constants';
import { maskRecipient, urlHost } from '../shared/mask';
import type {
  ActionOutcome,
  DeliveryResult,
  RenderedAction,
  RuleRunInput,
  RuleRunResult,
} from '../shared/run-types';
import { isRendered } from '../shared/run-types';

const { prepareRun } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});

/** Start 1 s, doubling, at most 10 minutes apart; give up after 24 hours. Permanent errors are not retried. */
const delivery = proxyActivities<Activities>({
  startToCloseTimeout: '1m',
  scheduleToCloseTimeout: '24h',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '10m',
    nonRetryableErrorTypes: [FAILURE_TYPES.permanent],
  },
});

export function actionSummary(a: RenderedAction): string {
  switch (a.type) {
    case 'sms':
      return `send SMS to ${maskRecipient(a.to)}`;
    case 'email':
      return `send email to ${maskRecipient(a.to)}`;
    case 'webhook':
      return `${a.method} webhook to ${urlHost(a.url)}`;
  }
}

function deliver(input: RuleRunInput, action: RenderedAction): Promise<DeliveryResult> {
  const { workflowId } = workflowInfo();
  const ctx = {
    accountId: input.accountId,
    workflowId,
    ruleId: input.rule.id,
    actionIndex: action.index,
    // The same on every retry of this action in this run: the ledger and webhook receivers key on it.
    idempotencyKey: `${workflowId}.action-${action.index}`,
  };
  const options = { summary: actionSummary(action) };
  switch (action.type) {
    case 'sms':
      return delivery.sendSms.executeWithOptions(options, [ctx, action]);
    case 'email':
      return delivery.sendEmail.executeWithOptions(options, [ctx, action]);
    case 'webhook':
      return delivery.sendWebhook.executeWithOptions(options, [ctx, action]);
  }
}

function failureOf(err: unknown): { message: string; attempts: number } {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  const details =
    cause instanceof ApplicationFailure
      ? (cause.details?.[0] as { attempt?: number } | undefined)
      : undefined;
  return { message: cause instanceof Error ? cause.message : String(cause), attempts: details?.attempt ?? 1 };
}

export async function ruleRunWorkflow(input: RuleRunInput): Promise<RuleRunResult> {
  const { rule, event } = input;
  // The delay is measured from ingest, not from when this run happened to start.
  const wait = rule.delayMs - (Date.now() - Date.parse(event.receivedAt));
  if (wait > 0) {
    setCurrentDetails(
      `Waiting ${rule.delayText} after ${event.name} (event ${event.id}), then checking rule ${rule.name}.`,
    );
    await sleep(wait, { summary: `wait ${rule.delayText}` });
  }

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
  const actions: ActionOutcome[] = await Promise.all(
    prepared.actions.map(async (action): Promise<ActionOutcome> => {
      if (!isRendered(action)) {
        return {
          index: action.index,
          type: action.type,
          outcome: 'failed',
          attempts: 0,
          providerId: null,
          error: action.error,
        };
      }
      try {
        const r = await deliver(input, action);
        return {
          index: action.index,
          type: action.type,
          outcome: 'sent',
          attempts: r.attempts ?? 1,
          providerId: r.providerId,
        };
      } catch (err) {
        const f = failureOf(err);
        return {
          index: action.index,
          type: action.type,
          outcome: 'failed',
          attempts: f.attempts,
          providerId: null,
          error: f.message,
        };
      }
    }),
  );

  const failed = actions.filter((a) => a.outcome === 'failed');
  const result: RuleRunResult = {
    outcome: failed.length ? 'failed' : 'sent',
    ruleId: rule.id,
    ruleVersion: prepared.ruleVersion,
    actions,
  };
  if (failed.length) {
    setCurrentDetails(`Failed: ${failed.map((a) => `action ${a.index}: ${a.error}`).join('; ')}`);
    // Failing the run makes it show as failed in the Temporal UI; the summary travels in the details.
    throw ApplicationFailure.create({
      type: FAILURE_TYPES.actionsFailed,
      message: `${failed.length} of ${actions.length} action(s) failed: ${failed.map((a) => a.error).join('; ')}`,
      nonRetryable: true,
      details: [result],
    });
  }
  setCurrentDetails(`Sent ${actions.length} action(s).`);
  return result;
}
