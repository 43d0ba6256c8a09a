/**
 * The event workflow and the activity that starts its rule runs, on the run's real Temporal dev server
 * (the time-skipping test server does not know our custom search attributes) and real PostgreSQL.
 */
import { Client } from '@temporalio/client';
import { MockActivityEnvironment, TestWorkflowEnvironment } from '@temporalio/testing';
import { createRuleActivities } from '../../src/activities/rules';
import { SEARCH_ATTRIBUTES, workflowIds } from '../../src/shared/constants';
import type { EventWorkflowInput, MatchedRule, StartedRuleRun } from '../../src/shared/run-types';
import { startStack, type Stack } from '../helpers/stack';
import { testWorker } from '../helpers/time-skipping';

let env: TestWorkflowEnvironment;
let stack: Stack;
beforeAll(async () => {
  // No worker: the runs startRuleRuns starts stay put for inspection. (First: it installs the Runtime.)
  stack = await startStack({}, { worker: false });
  env = await TestWorkflowEnvironment.createFromExistingServer({
    address: process.env.TEST_TEMPORAL_ADDRESS!,
  });
});
afterAll(async () => {
  await stack?.stop();
  await env?.teardown();
});

const uniq = () => Math.random().toString(36).slice(2);
const eventInput = (accountId: string, name = 'job.created'): EventWorkflowInput => {
  const now = new Date().toISOString();
  return {
    accountId,
    event: { id: `evt-${uniq()}`, name, occurredAt: now, receivedAt: now, payload: {} },
  };
};

describe('event workflow', () => {
  test('starts the runs of the rules it found, and reports them', async () => {
    const taskQueue = `tq-${uniq()}`;
    const input = eventInput('acc_1');
    const rule: MatchedRule = { id: 'rule_a', name: 'A', version: 1, delayMs: 0, delayText: 'no delay' };
    const started: StartedRuleRun[] = [{ rule, workflowId: `run-rule_a-${input.event.id}`, runId: 'r1' }];
    const calls: unknown[][] = [];
    const worker = await testWorker(env, taskQueue, {
      findRulesForEvent: async () => [rule],
      startRuleRuns: async (...args: unknown[]) => {
        calls.push(args);
        return started;
      },
    });
    const result = await worker.runUntil(
      env.client.workflow.execute('eventWorkflow', {
        taskQueue,
        workflowId: workflowIds.event('acc_1', input.event.id),
        args: [input],
      }),
    );
    expect(calls).toEqual([[input, [rule]]]);
    expect(result).toEqual({
      eventId: input.event.id,
      matchedRules: [{ ruleId: 'rule_a', ruleName: 'A', workflowId: `run-rule_a-${input.event.id}` }],
    });
  });

  test('no matched rule: nothing is started and the event run completes saying so', async () => {
    const taskQueue = `tq-${uniq()}`;
    const input = eventInput('acc_1');
    let starts = 0;
    const worker = await testWorker(env, taskQueue, {
      findRulesForEvent: async () => [],
      startRuleRuns: async () => {
        starts++;
        return [];
      },
    });
    const result = await worker.runUntil(
      env.client.workflow.execute('eventWorkflow', {
        taskQueue,
        workflowId: workflowIds.event('acc_1', input.event.id),
        args: [input],
      }),
    );
    expect(result).toEqual({ eventId: input.event.id, matchedRules: [] });
    expect(starts).toBe(0);
  });
});

describe('startRuleRuns', () => {
  test("starts one run per enabled rule of the event's name, once, even when the activity is retried", async () => {
    const acct = await stack.account();
    const other = await stack.account();
    const rule = (name: string, eventName: string, enabled = true) => ({
      name,
      enabled,
      trigger: { eventName },
      delay: { value: 1, unit: 'days' },
      actions: [{ type: 'webhook', params: { url: 'http://127.0.0.1:9/x', payload: {} } }],
    });
    const ids: Record<string, string> = {};
    for (const [client, body] of [
      [acct, rule('A', 'job.created')],
      [acct, rule('B', 'job.created')],
      [acct, rule('disabled', 'job.created', false)],
      [acct, rule('other event', 'job.status.changed')],
      [other, rule('other account', 'job.created')],
    ] as const) {
      const res = await client.post('/rules', body);
      expect(res.status).toBe(201);
      ids[body.name] = res.body.id;
    }

    const taskQueue = `tq-${uniq()}`;
    // As in the worker: a client on a NativeConnection, which eager starts require.
    const temporal = new Client({ connection: env.nativeConnection });
    const { findRulesForEvent, startRuleRuns } = createRuleActivities(stack.db, temporal);
    const activityEnv = new MockActivityEnvironment({ taskQueue });
    const input = eventInput(acct.id);
    const rules = await findRulesForEvent({ accountId: acct.id, eventName: 'job.created' });
    expect(rules.map((r) => r.name).sort()).toEqual(['A', 'B']);
    const first: StartedRuleRun[] = await activityEnv.run(startRuleRuns, input, rules);
    // A second attempt (the worker died before the marker was recorded) finds the runs already there.
    const second: StartedRuleRun[] = await activityEnv.run(startRuleRuns, input, rules);

    const expected = [ids.A, ids.B].sort().map((id) => workflowIds.ruleRun(id, input.event.id));
    expect(first.map((r) => r.workflowId).sort()).toEqual(expected);
    expect(first.every((r) => typeof r.runId === 'string')).toBe(true);
    expect(second.map((r) => r.workflowId).sort()).toEqual(expected);
    expect(second.every((r) => r.runId === null)).toBe(true);

    for (const started of first) {
      const handle = stack.temporal.workflow.getHandle(started.workflowId);
      const d = await handle.describe();
      expect(d.runId).toBe(started.runId);
      expect(d.taskQueue).toBe(taskQueue);
      expect(d.typedSearchAttributes.get(SEARCH_ATTRIBUTES.AccountId)).toBe(acct.id);
      expect(d.typedSearchAttributes.get(SEARCH_ATTRIBUTES.RuleId)).toBe(started.rule.id);
      expect(d.typedSearchAttributes.get(SEARCH_ATTRIBUTES.EventId)).toBe(input.event.id);
      expect(d.typedSearchAttributes.get(SEARCH_ATTRIBUTES.EventName)).toBe('job.created');
      expect(d.memo).toMatchObject({ kind: 'rule-run', ruleName: started.rule.name });
      await handle.terminate('test done');
    }
  });
});
