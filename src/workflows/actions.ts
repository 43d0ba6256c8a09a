/** Delivering one rendered action from workflow code: shared by rule runs and scheduled ticks. */
import {
  ActivityFailure,
  ApplicationFailure,
  isCancellation,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { FAILURE_TYPES } from '../shared/constants';
import { maskRecipient, urlHost } from '../shared/mask';
import type { ActionOutcome, DeliveryResult, RenderedAction, UnrenderableAction } from '../shared/run-types';
import { isRendered } from '../shared/run-types';

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

function send(
  accountId: string,
  ruleId: string,
  keyPrefix: string,
  action: RenderedAction,
): Promise<DeliveryResult> {
  const ctx = {
    accountId,
    workflowId: workflowInfo().workflowId,
    ruleId,
    actionIndex: action.index,
    // The same on every retry, and across continue-as-new: the ledger and webhook receivers key on it.
    idempotencyKey: `${keyPrefix}.action-${action.index}`,
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

/** Delivers one action and reports its outcome; only cancellation throws, so one action cannot stop the others. */
export async function runAction(
  accountId: string,
  ruleId: string,
  keyPrefix: string,
  action: RenderedAction | UnrenderableAction,
): Promise<ActionOutcome> {
  const base = { index: action.index, type: action.type };
  if (!isRendered(action))
    return { ...base, outcome: 'failed', attempts: 0, providerId: null, error: action.error };
  try {
    const r = await send(accountId, ruleId, keyPrefix, action);
    // Only a result of the consent check says suppressed: histories recorded before replay the same.
    if (r.via === 'suppressed') {
      return {
        ...base,
        outcome: 'suppressed',
        attempts: r.attempts ?? 1,
        providerId: null,
        reason: r.reason,
      };
    }
    return { ...base, outcome: 'sent', attempts: r.attempts ?? 1, providerId: r.providerId };
  } catch (err) {
    // A cancelled run ends cancelled, not failed.
    if (isCancellation(err)) throw err;
    const f = failureOf(err);
    return { ...base, outcome: 'failed', attempts: f.attempts, providerId: null, error: f.message };
  }
}
