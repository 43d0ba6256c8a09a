/**
 * The workflows on the time-skipping test server with stubbed activities: delays are honoured without
 * real waiting, and every branch of a rule run ends as a user would expect.
 */
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Activities } from '../../src/activities';
import { FAILURE_TYPES, workflowIds } from '../../src/shared/constants';
import type {
  DeliveryContext,
  MatchedRule,
  PreparedRun,
  RenderedAction,
  RuleRunInput,
  RuleRunResult,
} from '../../src/shared/run-types';
import { timeSkippingEnv, testWorker } from '../helpers/time-skipping';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await timeSkippingEnv();
}, 120_000);
afterAll(async () => {
  await env?.teardown();
});

const webhook = (index: number): RenderedAction => ({
  index,
  type: 'webhook',
  url: 'https://hooks.example.com/x',
  method: 'POST',
  payload: { i: index },
});

function ready(
  actions: RenderedAction[],
  overrides: Partial<Extract<PreparedRun, { status: 'ready' }>> = {},
): PreparedRun {
  return {
    status: 'ready',
    ruleVersion: 1,
    ruleName: 'r',
    matched: true,
    conditions: [],
    actions,
    userFound: null,
    ...overrides,
  };
}

type Stub = Partial<Record<keyof Activities, (...args: any[]) => Promise<unknown>>>;

interface Calls {
  prepareAt: number[];
  sends: { ctx: DeliveryContext; message: RenderedAction }[];
}

async function runRule(opts: {
  delayMs: number;
  prepared: PreparedRun;
  stubs?: Stub;
}): Promise<{ result?: RuleRunResult; error?: WorkflowFailedError; calls: Calls; startedAt: number }> {
  const calls: Calls = { prepareAt: [], sends: [] };
  const taskQueue = `tq-${Math.random().toString(36).slice(2)}`;
  const send = async (ctx: DeliveryContext, message: RenderedAction) => {
    calls.sends.push({ ctx, message });
    return { providerId: `p-${message.index}`, via: 'provider', attempts: 1 };
  };
  const activities: Stub = {
    prepareRun: async () => {
      calls.prepareAt.push(await env.currentTimeMs());
      return opts.prepared;
    },
    sendWebhook: send,
    sendSms: send,
    sendEmail: send,
    ...opts.stubs,
  };
  const worker = await testWorker(env, taskQueue, activities);
  const startedAt = await env.currentTimeMs();
  const rule: MatchedRule = {
    id: 'rule_1',
    name: 'r',
    version: 1,
    delayMs: opts.delayMs,
    delayText: `${opts.delayMs} ms`,
  };
  const input: RuleRunInput = {
    accountId: 'acc_1',
    rule,
    event: {
      id: `e-${taskQueue}`,
      name: 'job.created',
      occurredAt: new Date(startedAt).toISOString(),
      receivedAt: new Date(startedAt).toISOString(),
      payload: {},
    },
  };
  return worker.runUntil(async () => {
    try {
      const result = await env.client.workflow.execute('ruleRunWorkflow', {
        taskQueue,
        workflowId: workflowIds.ruleRun(rule.id, input.event.id),
        args: [input],
      });
      return { result: result as RuleRunResult, calls, startedAt };
    } catch (err) {
      if (err instanceof WorkflowFailedError) return { error: err, calls, startedAt };
      throw err;
    }
  });
}

describe('rule-run workflow', () => {
  test.each([
    ['5 minutes', 5 * 60_000],
    ['3 days', 3 * 86_400_000],
  ])('a delay of %s is honoured without real waiting', async (_label, delayMs) => {
    const wallStart = Date.now();
    const { result, calls, startedAt } = await runRule({ delayMs, prepared: ready([webhook(0)]) });
    expect(result?.outcome).toBe('sent');
    expect(calls.prepareAt[0] - startedAt).toBeGreaterThanOrEqual(delayMs);
    expect(Date.now() - wallStart).toBeLessThan(30_000);
  });

  test('a rule disabled or deleted during the delay ends as skipped with the reason, sending nothing', async () => {
    const { result, calls } = await runRule({
      delayMs: 60_000,
      prepared: { status: 'skipped', reason: 'rule was disabled (version 2)' },
    });
    expect(result).toEqual({
      outcome: 'skipped',
      ruleId: 'rule_1',
      ruleVersion: null,
      reason: 'rule was disabled (version 2)',
      actions: [],
    });
    expect(calls.sends).toHaveLength(0);
  });

  test('a rule edited during the delay runs at its current version and records it', async () => {
    const { result } = await runRule({ delayMs: 60_000, prepared: ready([webhook(0)], { ruleVersion: 3 }) });
    expect(result?.ruleVersion).toBe(3);
  });

  test('conditions not met: nothing is sent', async () => {
    const { result, calls } = await runRule({ delayMs: 0, prepared: ready([], { matched: false }) });
    expect(result?.outcome).toBe('conditions_not_met');
    expect(calls.sends).toHaveLength(0);
  });

  test('one action failing for good does not stop the other; the run ends failed with both outcomes', async () => {
    const sent: RenderedAction[] = [];
    const { error } = await runRule({
      delayMs: 0,
      prepared: ready([webhook(0), webhook(1)]),
      stubs: {
        sendWebhook: async (_ctx: DeliveryContext, message: RenderedAction) => {
          sent.push(message);
          if (message.index === 0) {
            throw ApplicationFailure.create({
              type: FAILURE_TYPES.permanent,
              message: 'webhook answered 400',
              nonRetryable: true,
              details: [{ status: 400, attempt: 1 }],
            });
          }
          return { providerId: null, via: 'provider', attempts: 1 };
        },
      },
    });
    expect(error).toBeDefined();
    const failure = error!.cause as ApplicationFailure;
    expect(failure.type).toBe(FAILURE_TYPES.actionsFailed);
    const summary = failure.details![0] as RuleRunResult;
    expect(summary.outcome).toBe('failed');
    expect(summary.actions).toEqual([
      expect.objectContaining({ index: 0, outcome: 'failed', attempts: 1, error: 'webhook answered 400' }),
      expect.objectContaining({ index: 1, outcome: 'sent' }),
    ]);
    // A permanent failure is tried once.
    expect(sent.filter((m) => m.index === 0)).toHaveLength(1);
  });

  test('transient failures are retried with one idempotency key until the send succeeds', async () => {
    let attempts = 0;
    const keys: string[] = [];
    const { result } = await runRule({
      delayMs: 0,
      prepared: ready([webhook(0)]),
      stubs: {
        sendWebhook: async (ctx: DeliveryContext) => {
          keys.push(ctx.idempotencyKey);
          attempts += 1;
          if (attempts < 3)
            throw ApplicationFailure.create({
              type: FAILURE_TYPES.transient,
              message: 'webhook answered 503',
            });
          return { providerId: null, via: 'provider', attempts };
        },
      },
    });
    expect(result?.outcome).toBe('sent');
    expect(result?.actions[0]).toMatchObject({ outcome: 'sent', attempts: 3 });
    expect(new Set(keys).size).toBe(1);
  });

  test('an action that could not be rendered fails the run without calling a channel', async () => {
    const { error, calls } = await runRule({
      delayMs: 0,
      prepared: {
        ...(ready([]) as Extract<PreparedRun, { status: 'ready' }>),
        actions: [{ index: 0, type: 'sms', error: 'recipient is empty for this event' }],
      },
    });
    expect((error!.cause as ApplicationFailure).message).toContain('recipient is empty');
    expect(calls.sends).toHaveLength(0);
  });
});
