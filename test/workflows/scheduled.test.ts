/** A scheduled rule's tick on the time-skipping server, with stubbed activities. */
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { FAILURE_TYPES } from '../../src/shared/constants';
import type { DeliveryContext, RenderedAction, TickPage, TickResult } from '../../src/shared/run-types';
import { testWorker, timeSkippingEnv } from '../helpers/time-skipping';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await timeSkippingEnv();
}, 120_000);
afterAll(async () => {
  await env?.teardown();
});

const sms = (to: string): RenderedAction => ({
  index: 0,
  type: 'sms',
  to,
  body: 'Your certification expires soon',
});

/** Seven pages of three users; users whose number is even match; user 5 has a failing phone. */
function pages(delayMs: number): TickPage[] {
  return Array.from({ length: 7 }, (_, p) => ({
    status: 'ready' as const,
    ruleVersion: 2,
    delayMs,
    delayText: `${delayMs} ms`,
    checked: 3,
    nextAfterSeq: p < 6 ? String((p + 1) * 3) : null,
    matches: [0, 1, 2]
      .map((i) => p * 3 + i)
      .filter((u) => u % 2 === 0)
      .map((u) => ({ userId: `usr_${u}`, actions: [sms(`+1555000${String(u).padStart(4, '0')}`)] })),
  }));
}

async function runTick(all: TickPage[]) {
  const taskQueue = `tq-${Math.random().toString(36).slice(2)}`;
  const keys: string[] = [];
  const calls: { afterSeq: string | null; at: number }[] = [];
  const worker = await testWorker(env, taskQueue, {
    prepareTickPage: async (input: { afterSeq: string | null }) => {
      calls.push({ afterSeq: input.afterSeq, at: await env.currentTimeMs() });
      return all[input.afterSeq === null ? 0 : Number(input.afterSeq) / 3];
    },
    sendSms: async (ctx: DeliveryContext, message: Extract<RenderedAction, { type: 'sms' }>) => {
      keys.push(ctx.idempotencyKey);
      if (message.to.endsWith('0006')) {
        throw ApplicationFailure.create({
          type: FAILURE_TYPES.permanent,
          message: 'Twilio error 21211',
          nonRetryable: true,
        });
      }
      return { providerId: 'SM1', via: 'provider', attempts: 1 };
    },
  });
  const startedAt = await env.currentTimeMs();
  const workflowId = `tick-rule_s-${taskQueue}`;
  const result = await worker.runUntil(
    env.client.workflow.execute('scheduledRuleWorkflow', {
      taskQueue,
      workflowId,
      args: [{ accountId: 'acc_1', ruleId: 'rule_s' }],
    }),
  );
  return { result: result as TickResult, keys, calls, startedAt, workflowId };
}

test('a tick checks every user across pages and continue-as-new, delivering once per matching user', async () => {
  const { result, keys, calls, workflowId } = await runTick(pages(0));
  expect(result).toEqual({
    outcome: 'completed',
    ruleId: 'rule_s',
    ruleVersion: 2,
    checked: 21,
    matched: 11,
    delivered: 10,
    failed: 1,
    failures: [{ userId: 'usr_6', action: 0, error: 'Twilio error 21211' }],
  });
  // Every page asked for exactly once, in order, although the tick continued as new after five.
  expect(calls.map((c) => c.afterSeq)).toEqual([null, '3', '6', '9', '12', '15', '18']);
  expect(keys).toHaveLength(11);
  expect(new Set(keys).size).toBe(11);
  expect(keys).toContain(`${workflowId}.user-usr_20.action-0`);
});

test("the rule's delay is slept once per tick before users are checked", async () => {
  const { result, calls, startedAt } = await runTick(pages(3_600_000));
  expect(result.checked).toBe(21);
  // The first call only learns the delay; the first page is read again after it.
  expect(calls[0].afterSeq).toBeNull();
  expect(calls[1].afterSeq).toBeNull();
  expect(calls[1].at - startedAt).toBeGreaterThanOrEqual(3_600_000);
});

test("a rule with a send window delivers when the window opens (the page's sendAt), once", async () => {
  const now = await env.currentTimeMs();
  const sendAt = new Date(now + 5 * 3_600_000).toISOString();
  const windowed = pages(0).map((p) => ({ ...p, sendAt, windowText: 'window 08:00-20:00 (UTC)' }));
  const { result, calls, startedAt } = await runTick(windowed);
  expect(result.delivered).toBe(10);
  expect(calls[1].afterSeq).toBeNull();
  expect(calls[1].at - startedAt).toBeGreaterThanOrEqual(5 * 3_600_000 - 1000);
  expect(calls.slice(1).map((c) => c.afterSeq)).toEqual([null, '3', '6', '9', '12', '15', '18']);
});

test('a tick of a disabled or deleted rule is skipped, delivering nothing', async () => {
  const { result, keys } = await runTick([{ status: 'skipped', reason: 'rule is disabled (version 3)' }]);
  expect(result).toMatchObject({ outcome: 'skipped', reason: 'rule is disabled (version 3)', checked: 0 });
  expect(keys).toHaveLength(0);
});
