/**
 * Event ids and run ids: a retry's id is out of every event's reach, and one event id names one event
 * (other content under it is a 409 `event_conflict`; the same content again stays a duplicate).
 */
import { WorkflowIdReusePolicy } from '@temporalio/client';
import { WORKFLOW_TYPES, workflowIds } from '../../src/shared/constants';
import { ruleRunStart } from '../../src/shared/rule-runs';
import { startReceiver } from '../helpers/receiver';
import { eventually, startStack, type AccountClient, type Stack } from '../helpers/stack';

let stack: Stack;
let acct: AccountClient;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  stack = await startStack();
  // Every webhook fails for good: runs end `failed`, and can be retried.
  receiver = await startReceiver(() => ({ status: 400, body: 'no' }));
  acct = await stack.account('Ids');
});
afterAll(async () => {
  await receiver?.close();
  await stack?.stop();
});

const uniq = () => Math.random().toString(36).slice(2, 10);

async function closed(workflowId: string): Promise<any> {
  return eventually(
    async () => {
      const res = await acct.get(`/executions/${workflowId}`);
      return res.status === 200 && res.body.status !== 'running' ? res.body : undefined;
    },
    30_000,
    `${workflowId} to close`,
  );
}

describe('the same event id', () => {
  const name = 'job.done';
  test('with the same content is a duplicate; with another name, user or payload a 409', async () => {
    const id = `evt-${uniq()}`;
    const first = await acct.post('/events', { id, name, payload: { a: 1, b: { c: [1, 2] } } });
    expect(first.status).toBe(202);
    // Keys in another order: the same content.
    const again = await acct.post('/events', { id, name, payload: { b: { c: [1, 2] }, a: 1 } });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ eventId: id, workflowId: first.body.workflowId, duplicate: true });
    for (const other of [
      { id, name, payload: { a: 2, b: { c: [1, 2] } } },
      { id, name: 'job.created', payload: { a: 1, b: { c: [1, 2] } } },
      { id, name, userId: 'u-1', payload: { a: 1, b: { c: [1, 2] } } },
    ]) {
      const res = await acct.post('/events', other);
      expect(res.status).toBe(409);
      expect(res.body.error).toMatchObject({ code: 'event_conflict', details: [{ path: 'id' }] });
    }
  });

  test('in a batch: a 409 per entry, the others taken', async () => {
    const id = `evt-${uniq()}`;
    expect((await acct.post('/events', { id, name, payload: { n: 1 } })).status).toBe(202);
    const fresh = `evt-${uniq()}`;
    const res = await acct.post('/events/batch', {
      events: [
        { id, name, payload: { n: 1 } },
        { id, name, payload: { n: 2 } },
        { id: fresh, name, payload: {} },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: any) => [r.status, r.duplicate ?? r.error?.code ?? null])).toEqual([
      [200, true],
      [409, 'event_conflict'],
      [202, null],
    ]);
  });

  test('a run started before content hashes (no hash in its memo) is a duplicate whatever the content', async () => {
    const id = `old-${uniq()}`;
    const now = new Date().toISOString();
    await stack.temporal.workflow.start(WORKFLOW_TYPES.event, {
      taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
      workflowId: workflowIds.event(acct.id, id),
      args: [{ accountId: acct.id, event: { id, name, occurredAt: now, receivedAt: now, payload: {} } }],
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      memo: { kind: 'event' },
    });
    const res = await acct.post('/events', { id, name: 'something.else', payload: { x: 1 } });
    expect(res.status).toBe(200);
    expect(res.body.duplicate).toBe(true);
  });
});

describe('retry ids', () => {
  test('a retry never takes the id of an event’s run; event ids cannot enter its namespace', async () => {
    const eventName = `order.${uniq()}`;
    const rule = await acct.post('/rules', {
      name: 'Hook',
      trigger: { eventName },
      delay: { value: 0, unit: 'seconds' },
      conditions: { all: [] },
      actions: [{ type: 'webhook', params: { url: `${receiver.url}/hook`, payload: { a: 1 } } }],
    });
    expect(rule.status).toBe(201);
    const ruleId = rule.body.id;
    const eventId = `order-${uniq()}`;
    expect((await acct.post('/events', { id: eventId, name: eventName, payload: {} })).status).toBe(202);
    const runId = workflowIds.ruleRun(ruleId, eventId);
    expect((await closed(runId)).status).toBe('failed');

    const retry = await acct.post(`/executions/${runId}/retry`);
    expect(retry.status).toBe(202);
    expect(retry.body).toMatchObject({ workflowId: `${runId}~retry-1`, retryOf: runId });
    expect((await closed(`${runId}~retry-1`)).retryOf).toBe(runId);

    // The event the old form collided with now gets a run of its own.
    const lookalike = `${eventId}-retry-1`;
    const sent = await acct.post('/events', { id: lookalike, name: eventName, payload: {} });
    expect(sent.status).toBe(202);
    const own = await closed(workflowIds.ruleRun(ruleId, lookalike));
    expect(own).toMatchObject({ eventId: lookalike, retryOf: null });

    const refused = await acct.post('/events', { id: `${eventId}~retry-2`, name: eventName, payload: {} });
    expect(refused.status).toBe(400);
    expect(refused.body.error.details[0].path).toBe('id');
  });

  test('a retry made before this form (`-retry-N`) stays readable, and retrying it continues the count', async () => {
    const eventName = `order.${uniq()}`;
    const created = await acct.post('/rules', {
      name: 'Hook',
      trigger: { eventName },
      delay: { value: 0, unit: 'seconds' },
      conditions: { all: [] },
      actions: [{ type: 'webhook', params: { url: `${receiver.url}/old`, payload: { a: 1 } } }],
    });
    const ruleId = created.body.id;
    const eventId = `order-${uniq()}`;
    const now = new Date().toISOString();
    const start = ruleRunStart(
      acct.id,
      { id: ruleId, name: 'Hook', version: 1, delayMs: 0, delayText: 'no delay' },
      { id: eventId, name: eventName, occurredAt: now, receivedAt: now, payload: {} },
    );
    const runId = start.workflowId;
    const oldRetry = `${runId}-retry-1`;
    await stack.temporal.workflow.start(WORKFLOW_TYPES.ruleRun, {
      ...start,
      args: [{ ...start.args[0], retryOf: runId }],
      workflowId: oldRetry,
      memo: { ...start.memo, retryOf: runId },
      taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
    });
    expect(await closed(oldRetry)).toMatchObject({ status: 'failed', retryOf: runId });
    const next = await acct.post(`/executions/${oldRetry}/retry`);
    expect(next.status).toBe(202);
    expect(next.body).toMatchObject({ workflowId: `${runId}~retry-2`, retryOf: oldRetry });
  });
});
