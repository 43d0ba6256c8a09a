/**
 * The event workflow with stubbed activities, on the run's real Temporal dev server: the time-skipping
 * test server does not know our custom search attributes, which the child starts carry.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { SEARCH_ATTRIBUTES, workflowIds } from '../../src/shared/constants';
import type { MatchedRule, PreparedRun } from '../../src/shared/run-types';
import { testWorker } from '../helpers/time-skipping';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await TestWorkflowEnvironment.createFromExistingServer({
    address: process.env.TEST_TEMPORAL_ADDRESS!,
  });
});
afterAll(async () => {
  await env?.teardown();
});

const notMatched: PreparedRun = {
  status: 'ready',
  ruleVersion: 1,
  ruleName: 'r',
  matched: false,
  conditions: [],
  actions: [],
  userFound: null,
};
const uniq = () => Math.random().toString(36).slice(2);

describe('event workflow', () => {
  test('starts one rule run per matched rule, with readable ids, and completes', async () => {
    const taskQueue = `tq-${uniq()}`;
    const eventId = `evt-${uniq()}`;
    const rules: MatchedRule[] = [
      { id: 'rule_a', name: 'A', version: 1, delayMs: 0, delayText: 'no delay' },
      { id: 'rule_b', name: 'B', version: 4, delayMs: 0, delayText: 'no delay' },
    ];
    const prepared: string[] = [];
    const worker = await testWorker(env, taskQueue, {
      findRulesForEvent: async () => rules,
      prepareRun: async (input: { ruleId: string }) => {
        prepared.push(input.ruleId);
        return notMatched;
      },
    });
    const now = new Date(await env.currentTimeMs()).toISOString();
    const result = await worker.runUntil(async () => {
      const r = await env.client.workflow.execute('eventWorkflow', {
        taskQueue,
        workflowId: workflowIds.event('acc_1', eventId),
        args: [
          {
            accountId: 'acc_1',
            event: { id: eventId, name: 'job.created', occurredAt: now, receivedAt: now, payload: {} },
          },
        ],
      });
      // The rule runs outlive the event run: wait for them here.
      for (const id of [`run-rule_a-${eventId}`, `run-rule_b-${eventId}`])
        await env.client.workflow.getHandle(id).result();
      return r;
    });
    expect(result).toEqual({
      eventId,
      matchedRules: [
        { ruleId: 'rule_a', ruleName: 'A', workflowId: `run-rule_a-${eventId}` },
        { ruleId: 'rule_b', ruleName: 'B', workflowId: `run-rule_b-${eventId}` },
      ],
    });
    expect(prepared.sort()).toEqual(['rule_a', 'rule_b']);
    // Each run carries the search attributes operators query by.
    const run = await env.client.workflow.getHandle(`run-rule_b-${eventId}`).describe();
    expect(run.typedSearchAttributes.get(SEARCH_ATTRIBUTES.RuleId)).toBe('rule_b');
    expect(run.typedSearchAttributes.get(SEARCH_ATTRIBUTES.EventId)).toBe(eventId);
  });

  test('no matched rule: the event run completes saying so', async () => {
    const taskQueue = `tq-${Math.random().toString(36).slice(2)}`;
    const worker = await testWorker(env, taskQueue, { findRulesForEvent: async () => [] });
    const now = new Date().toISOString();
    const result = await worker.runUntil(
      env.client.workflow.execute('eventWorkflow', {
        taskQueue,
        workflowId: `event-acc_1-none-${taskQueue}`,
        args: [
          {
            accountId: 'acc_1',
            event: { id: 'evt-none', name: 'job.created', occurredAt: now, receivedAt: now, payload: {} },
          },
        ],
      }),
    );
    expect(result).toEqual({ eventId: 'evt-none', matchedRules: [] });
  });
});
