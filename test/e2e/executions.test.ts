/**
 * The execution log through HTTP on the real stack: runs are started by POST /events, executed by the
 * worker against a local webhook receiver, and read back from Temporal's visibility and history.
 */
import { startReceiver } from '../helpers/receiver';
import { eventually, startStack, type AccountClient, type Stack } from '../helpers/stack';

let stack: Stack;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
/** Per path: the statuses to answer, in order; then 200. */
const scripts = new Map<string, number[]>();

beforeAll(async () => {
  stack = await startStack();
  receiver = await startReceiver((r) => {
    const status = scripts.get(r.path)?.shift() ?? 200;
    return { status, body: status === 200 ? '{"ok":true}' : `answer ${status}` };
  });
});
afterAll(async () => {
  await receiver?.close();
  await stack?.stop();
});

const uniq = () => Math.random().toString(36).slice(2, 10);

function rule(eventName: string, path: string, overrides: Record<string, unknown> = {}) {
  return {
    name: `Webhook on ${eventName}`,
    trigger: { eventName },
    delay: { value: 0, unit: 'seconds' },
    conditions: { all: [{ fact: 'job', path: '$.status', operator: 'equal', value: 'Done' }] },
    actions: [
      { type: 'webhook', params: { url: `${receiver.url}${path}`, payload: { job: '{{job.number}}' } } },
    ],
    ...overrides,
  };
}

async function createRule(acct: AccountClient, body: Record<string, unknown>): Promise<string> {
  const res = await acct.post('/rules', body);
  expect(res.status).toBe(201);
  return res.body.id;
}
async function disableRule(acct: AccountClient, ruleId: string): Promise<void> {
  const res = await acct.patch(`/rules/${ruleId}`, { enabled: false });
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ enabled: false, version: 2 });
}

async function sendEvent(acct: AccountClient, name: string, payload: unknown, id = `e-${uniq()}`) {
  const res = await acct.post('/events', { id, name, payload });
  expect(res.status).toBe(202);
  return { eventId: id, eventWorkflowId: res.body.workflowId as string };
}

/** Polls GET /executions/:id until the run has closed, and returns its detail. */
async function closed(acct: AccountClient, workflowId: string): Promise<any> {
  return eventually(
    async () => {
      const res = await acct.get(`/executions/${workflowId}`);
      return res.status === 200 && res.body.status !== 'running' ? res.body : undefined;
    },
    30_000,
    `${workflowId} to close`,
  );
}

const entries = (detail: any, type: string): any[] => detail.timeline.filter((e: any) => e.type === type);

describe('timelines', () => {
  test('a sent run: delay planned and actual, the rule re-read, the condition with its fact value, the attempt', async () => {
    const acct = await stack.account();
    const eventName = `job.done${uniq()}`;
    const ruleId = await createRule(
      acct,
      rule(eventName, `/ok-${uniq()}`, { delay: { value: 6, unit: 'seconds' } }),
    );
    const { eventId, eventWorkflowId } = await sendEvent(acct, eventName, {
      job: { number: 77, status: 'Done' },
    });
    const runId = `run-${ruleId}-${eventId}`;

    const d = await closed(acct, runId);
    expect(d).toMatchObject({
      workflowId: runId,
      kind: 'rule-run',
      status: 'completed',
      ruleId,
      ruleVersion: 1,
      eventName,
      eventId,
      event: { name: eventName, id: eventId, payload: { job: { number: 77, status: 'Done' } }, userId: null },
      result: { outcome: 'sent', actions: [{ index: 0, type: 'webhook', outcome: 'sent', attempts: 1 }] },
      parentWorkflowId: eventWorkflowId,
      error: null,
    });
    expect(d.timeline.map((e: any) => e.type)).toEqual([
      'event_received',
      'rule_matched',
      'delay_started',
      'delay_ended',
      'rule_reread',
      'condition',
      'conditions_evaluated',
      'action_attempt',
      'outcome',
    ]);
    const [received] = entries(d, 'event_received');
    const [started] = entries(d, 'delay_started');
    const [ended] = entries(d, 'delay_ended');
    // A 6 s delay: long enough that the run (started after ingest) still has some of it to sleep,
    // even on a loaded machine.
    expect(started).toMatchObject({ delay: '6 seconds', delayMs: 6000 });
    expect(started.remainingMs).toBeLessThanOrEqual(6000);
    expect(Date.parse(started.plannedEndAt)).toBe(Date.parse(received.at) + 6000);
    expect(ended.plannedEndAt).toBe(started.plannedEndAt);
    expect(Date.parse(ended.actualEndAt)).toBeGreaterThanOrEqual(Date.parse(ended.plannedEndAt) - 50);
    expect(ended.lateByMs).toEqual(expect.any(Number));
    expect(entries(d, 'rule_reread')[0]).toMatchObject({
      outcome: 'current',
      ruleVersion: 1,
      versionChanged: false,
    });
    expect(entries(d, 'condition')[0]).toMatchObject({
      fact: 'job',
      path: '$.status',
      operator: 'equal',
      value: 'Done',
      factValue: 'Done',
      result: true,
    });
    expect(entries(d, 'action_attempt')[0]).toMatchObject({
      actionIndex: 0,
      actionType: 'webhook',
      activityType: 'sendWebhook',
      attempt: 1,
      outcome: 'sent',
      status: 200,
      error: null,
      at: expect.any(String),
    });
    expect(entries(d, 'outcome')[0]).toMatchObject({ status: 'completed', outcome: 'sent' });

    // The event run: the rules it matched and the rule runs it started.
    const ev = await closed(acct, eventWorkflowId);
    expect(ev).toMatchObject({ kind: 'event', status: 'completed', ruleId: null, eventId });
    expect(entries(ev, 'rules_matched')[0].rules).toEqual([
      expect.objectContaining({ ruleId, ruleVersion: 1, delay: '6 seconds' }),
    ]);
    expect(entries(ev, 'rule_run_started')).toEqual([
      expect.objectContaining({ ruleId, workflowId: runId, runId: expect.any(String) }),
    ]);
    expect(ev.ruleRuns).toEqual([
      expect.objectContaining({ workflowId: runId, ruleId, status: 'completed' }),
    ]);

    // Both in the list, marked by kind.
    const listed = await eventually(async () => {
      const res = await acct.get(`/executions?eventId=${eventId}`);
      return res.body.items?.length === 2 ? res.body.items : undefined;
    });
    expect(listed.map((i: any) => [i.workflowId, i.kind]).sort()).toEqual(
      [
        [eventWorkflowId, 'event'],
        [runId, 'rule-run'],
      ].sort(),
    );
    expect(listed.find((i: any) => i.kind === 'rule-run')).toMatchObject({
      ruleId,
      ruleName: `Webhook on ${eventName}`,
      ruleVersion: 1,
      eventName,
      status: 'completed',
      closedAt: expect.any(String),
    });
  });

  test('conditions not met: each condition with the fact value that failed it, nothing sent', async () => {
    const acct = await stack.account();
    const eventName = `job.open${uniq()}`;
    const ruleId = await createRule(acct, rule(eventName, `/never-${uniq()}`));
    const { eventId } = await sendEvent(acct, eventName, { job: { number: 5, status: 'Open' } });
    const d = await closed(acct, `run-${ruleId}-${eventId}`);
    expect(d.status).toBe('completed');
    expect(d.result).toMatchObject({ outcome: 'conditions_not_met' });
    expect(entries(d, 'condition')).toEqual([
      expect.objectContaining({
        path: '$.status',
        operator: 'equal',
        value: 'Done',
        factValue: 'Open',
        result: false,
      }),
    ]);
    expect(entries(d, 'conditions_evaluated')[0]).toMatchObject({ matched: false });
    expect(entries(d, 'action_attempt')).toEqual([]);
    expect(entries(d, 'outcome')[0]).toMatchObject({ outcome: 'conditions_not_met' });
  });

  test('a skipped run: the rule was disabled during its delay', async () => {
    const acct = await stack.account();
    const eventName = `job.skip${uniq()}`;
    const body = rule(eventName, `/skip-${uniq()}`, { delay: { value: 3, unit: 'seconds' } });
    const ruleId = await createRule(acct, body);
    const { eventId } = await sendEvent(acct, eventName, { job: { number: 6, status: 'Done' } });
    const runId = `run-${ruleId}-${eventId}`;
    // Once the run sleeps, disable the rule.
    const sleeping = await eventually(async () => {
      const res = await acct.get(`/executions/${runId}`);
      return res.status === 200 && entries(res.body, 'delay_started').length ? res.body : undefined;
    });
    expect(sleeping.status).toBe('running');
    await disableRule(acct, ruleId);

    const d = await closed(acct, runId);
    expect(d.result).toMatchObject({ outcome: 'skipped', reason: expect.stringContaining('disabled') });
    expect(entries(d, 'delay_ended')).toHaveLength(1);
    expect(entries(d, 'rule_reread')[0]).toMatchObject({
      outcome: 'skipped',
      reason: expect.stringContaining('disabled (version 2)'),
    });
    expect(entries(d, 'condition')).toEqual([]);
    expect(entries(d, 'outcome')[0]).toMatchObject({ status: 'completed', outcome: 'skipped' });
  });

  test('a run that retried then failed (503, then 400), and its retry', async () => {
    const acct = await stack.account();
    const eventName = `job.flaky${uniq()}`;
    const path = `/flaky-${uniq()}`;
    scripts.set(path, [503, 400]);
    const ruleId = await createRule(acct, rule(eventName, path));
    const { eventId } = await sendEvent(acct, eventName, { job: { number: 8, status: 'Done' } });
    const runId = `run-${ruleId}-${eventId}`;

    const d = await closed(acct, runId);
    expect(d.status).toBe('failed');
    expect(d.error).toMatchObject({ type: 'ActionsFailed', message: expect.stringContaining('400') });
    expect(d.result).toMatchObject({ outcome: 'failed', actions: [{ outcome: 'failed', attempts: 2 }] });
    const attempts = entries(d, 'action_attempt');
    expect(attempts.map((a) => [a.attempt, a.outcome, a.status])).toEqual([
      [1, 'retried', 503],
      [2, 'failed', 400],
    ]);
    expect(attempts[0]).toMatchObject({
      error: expect.stringContaining('503'),
      errorType: 'TransientDeliveryError',
    });
    expect(attempts[1]).toMatchObject({
      error: expect.stringContaining('400'),
      errorType: 'PermanentDeliveryError',
      responseBody: 'answer 400',
      at: expect.any(String),
      startedAt: expect.any(String),
    });
    expect(entries(d, 'outcome')[0]).toMatchObject({ status: 'failed', outcome: 'failed' });

    // Retry: a new run, linked to the old one; the receiver now answers 200.
    const retry = await acct.post(`/executions/${runId}/retry`);
    expect(retry.status).toBe(202);
    expect(retry.body).toEqual({ workflowId: `${runId}~retry-1`, runId: expect.any(String), retryOf: runId });
    const r = await closed(acct, `${runId}~retry-1`);
    expect(r).toMatchObject({
      status: 'completed',
      retryOf: runId,
      ruleId,
      eventId,
      result: { outcome: 'sent' },
    });
    expect(entries(r, 'rule_matched')[0]).toMatchObject({ retryOf: runId });
    expect(entries(r, 'delay_started')).toEqual([]);
    // The old run is untouched; a second retry gets the next number.
    expect((await acct.get(`/executions/${runId}`)).body.status).toBe('failed');
    // A second retry of the failed run finds retry-1's delivery in the ledger: nothing is sent twice.
    const hits = () => receiver.received.filter((x) => x.path === path).length;
    const before = hits();
    const again = await acct.post(`/executions/${runId}/retry`);
    expect(again.body.workflowId).toBe(`${runId}~retry-2`);
    expect((await closed(acct, `${runId}~retry-2`)).status).toBe('completed');
    expect(hits()).toBe(before);
    // A completed run is not retried.
    const no = await acct.post(`/executions/${runId}~retry-1/retry`);
    expect(no.status).toBe(409);
    expect(no.body.error.code).toBe('not_retryable');
    // All three are found by the rule.
    const byRule = await eventually(async () => {
      const res = await acct.get(`/executions?ruleId=${ruleId}`);
      return res.body.items?.length === 3 ? res.body.items : undefined;
    });
    expect(byRule.find((i: any) => i.workflowId === `${runId}~retry-1`)).toMatchObject({ retryOf: runId });
  });
});

describe('cancel', () => {
  test('a sleeping run is cancelled; cancelling it again is 409', async () => {
    const acct = await stack.account();
    const eventName = `job.later${uniq()}`;
    const ruleId = await createRule(
      acct,
      rule(eventName, `/later-${uniq()}`, { delay: { value: 1, unit: 'hours' } }),
    );
    const { eventId, eventWorkflowId } = await sendEvent(acct, eventName, {
      job: { number: 9, status: 'Done' },
    });
    const runId = `run-${ruleId}-${eventId}`;
    await eventually(async () =>
      (await acct.get(`/executions/${runId}`)).status === 200 ? true : undefined,
    );

    const res = await acct.post(`/executions/${runId}/cancel`);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ workflowId: runId, status: 'cancel_requested' });
    const d = await closed(acct, runId);
    expect(d.status).toBe('cancelled');
    expect(entries(d, 'cancel_requested')).toHaveLength(1);
    expect(entries(d, 'outcome')[0]).toMatchObject({ status: 'cancelled' });

    const again = await acct.post(`/executions/${runId}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('not_running');
    // Neither a cancelled run nor an event run is retried.
    expect((await acct.post(`/executions/${runId}/retry`)).status).toBe(409);
    await closed(acct, eventWorkflowId);
    expect((await acct.post(`/executions/${eventWorkflowId}/retry`)).status).toBe(409);
  });
});

describe('cancel while retrying', () => {
  test('a run retrying its webhook is cancelled: the pending attempt is shown, then cancelled with the run', async () => {
    const acct = await stack.account();
    const eventName = `job.retrying${uniq()}`;
    const path = `/down-${uniq()}`;
    scripts.set(path, Array(50).fill(503));
    const ruleId = await createRule(acct, rule(eventName, path));
    const { eventId } = await sendEvent(acct, eventName, { job: { number: 10, status: 'Done' } });
    const runId = `run-${ruleId}-${eventId}`;

    // While it backs off, describe() supplies the attempt, the last failure and the next attempt.
    const retrying = await eventually(async () => {
      const res = await acct.get(`/executions/${runId}`);
      const a = res.body.timeline?.filter((e: any) => e.type === 'action_attempt') ?? [];
      return a.length === 2 && a[1].attempt >= 2 ? res.body : undefined;
    });
    expect(retrying.status).toBe('running');
    const [last, current] = entries(retrying, 'action_attempt');
    expect(last).toMatchObject({ outcome: 'retried', status: 503, errorType: 'TransientDeliveryError' });
    expect(['backing_off', 'running']).toContain(current.outcome);

    expect((await acct.post(`/executions/${runId}/cancel`)).status).toBe(202);
    const d = await closed(acct, runId);
    const types = d.timeline.map((e: any) => e.type);
    expect(types.slice(-3)).toEqual(['cancel_requested', 'action_attempt', 'outcome']);
    expect(entries(d, 'action_attempt').at(-1)).toMatchObject({
      outcome: 'cancelled',
      error: 'cancelled with the run',
    });
    // The run closes; whether as cancelled or failed is the workflow's call (it reports actions it could
    // not finish as failed).
    expect(['cancelled', 'failed']).toContain(d.status);
    scripts.delete(path);
  });
});

describe('pagination and filters', () => {
  test('pages of limit N cover every run once; filters narrow by rule, event, kind and status', async () => {
    const acct = await stack.account();
    const eventName = `job.page${uniq()}`;
    const ruleId = await createRule(acct, rule(eventName, `/page-${uniq()}`));
    const events = [];
    for (let i = 0; i < 4; i++)
      events.push(await sendEvent(acct, eventName, { job: { number: i, status: 'x' } }));
    // 4 event runs and 4 rule runs, all closed and visible.
    await eventually(
      async () => {
        const res = await acct.get('/executions?status=completed&limit=100');
        return res.body.items?.length === 8 ? true : undefined;
      },
      30_000,
      'eight completed runs',
    );

    const seen: any[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: any = await acct.get(`/executions?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(3);
      seen.push(...res.body.items);
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(new Set(seen.map((i) => i.workflowId)).size).toBe(8);
    expect(seen).toHaveLength(8);
    // Newest first: by close time, as Temporal visibility orders closed runs.
    const closes = seen.map((i) => Date.parse(i.closedAt));
    expect([...closes].sort((a, b) => b - a)).toEqual(closes);

    const rr = await acct.get(`/executions?kind=rule-run&ruleId=${ruleId}`);
    expect(rr.body.items).toHaveLength(4);
    expect(rr.body.items.every((i: any) => i.kind === 'rule-run' && i.ruleId === ruleId)).toBe(true);
    const evs = await acct.get(`/executions?kind=event&eventName=${eventName}`);
    expect(evs.body.items).toHaveLength(4);
    expect(evs.body.items.every((i: any) => i.kind === 'event' && i.ruleId === null)).toBe(true);
    const one = await acct.get(`/executions?eventId=${events[2].eventId}`);
    expect(one.body.items.map((i: any) => i.eventId)).toEqual([events[2].eventId, events[2].eventId]);
    expect((await acct.get('/executions?status=failed')).body.items).toEqual([]);
    expect((await acct.get('/executions?status=running')).body.items).toEqual([]);
  });

  test('a cursor that is not one of ours is 400', async () => {
    const acct = await stack.account();
    const res = await acct.get(`/executions?cursor=${Buffer.from('{"nope":1}').toString('base64url')}`);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_cursor');
    expect((await acct.get('/executions?cursor=not%20base64')).status).toBe(400);
    // A real cursor is tied to its filters.
    await sendEvent(acct, 'job.any', {});
    await sendEvent(acct, 'job.any', {});
    const first = await eventually(async () => {
      const r = await acct.get('/executions?limit=1');
      return r.body.nextCursor ? r.body : undefined;
    });
    expect((await acct.get(`/executions?limit=1&cursor=${first.nextCursor}`)).status).toBe(200);
    const moved = await acct.get(`/executions?limit=1&kind=event&cursor=${first.nextCursor}`);
    expect(moved.status).toBe(400);
    expect(moved.body.error.code).toBe('invalid_cursor');
    expect((await acct.get('/executions?limit=0')).status).toBe(400);
  });
});

describe('tenancy', () => {
  let owner: AccountClient;
  let other: AccountClient;
  let runId: string;
  let failedRunId: string;

  beforeAll(async () => {
    owner = await stack.account('Owner');
    other = await stack.account('Other');
    const eventName = `job.mine${uniq()}`;
    const sleepy = await createRule(
      owner,
      rule(eventName, `/mine-${uniq()}`, { delay: { value: 1, unit: 'hours' } }),
    );
    const path = `/bad-${uniq()}`;
    scripts.set(path, [400]);
    const failing = await createRule(owner, rule(eventName, path));
    const { eventId } = await sendEvent(owner, eventName, { job: { number: 1, status: 'Done' } });
    runId = `run-${sleepy}-${eventId}`;
    failedRunId = `run-${failing}-${eventId}`;
    await closed(owner, failedRunId);
  });

  test('another account gets 404 for detail, cancel and retry, and never sees the runs', async () => {
    for (const id of [runId, failedRunId]) {
      const detail = await other.get(`/executions/${id}`);
      expect(detail.status).toBe(404);
      expect(detail.body).toEqual({
        error: { code: 'not_found', message: 'execution not found', details: [] },
      });
      expect((await other.post(`/executions/${id}/cancel`)).status).toBe(404);
      expect((await other.post(`/executions/${id}/retry`)).status).toBe(404);
    }
    // Still sleeping and still failed: nothing the other account did reached them.
    expect((await owner.get(`/executions/${runId}`)).body.status).toBe('running');
    await eventually(async () =>
      (await owner.get('/executions')).body.items.length === 3 ? true : undefined,
    );
    expect((await other.get('/executions')).body.items).toEqual([]);
    expect((await other.get(`/executions?ruleId=${runId.split('-')[1]}`)).body.items).toEqual([]);
    expect((await owner.post(`/executions/${runId}/cancel`)).status).toBe(202);
  });

  test('a workflow id that is not a run of ours is 404, not 500', async () => {
    expect((await owner.get('/executions/no-such-run')).status).toBe(404);
    expect((await owner.get(`/executions/${encodeURIComponent("x' OR 1=1")}`)).status).toBe(404);
    expect((await owner.post('/executions/no-such-run/cancel')).status).toBe(404);
    expect((await stack.anonymous.get('/executions')).status).toBe(401);
  });

  test.each([
    ['ruleId', "x' OR AccountId != '"],
    ['eventName', "x' OR AccountId != '"],
    ['eventId', "x' OR AccountId != '"],
    ['status', "running' OR AccountId != '"],
    ['ruleId', 'a b'],
    ['eventId', "e' OR 'a'='a"],
    ['kind', 'workflow'],
  ])('%s=%s cannot widen the query: 400', async (name, value) => {
    const res = await other.get(`/executions?${name}=${encodeURIComponent(value)}`);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: 'validation_failed',
      details: [expect.objectContaining({ path: name })],
    });
  });

  test('repeated and unknown parameters are 400 too', async () => {
    expect((await other.get('/executions?ruleId=a&ruleId=b')).status).toBe(400);
    expect((await other.get('/executions?accountId=acc_x')).status).toBe(400);
  });
});

test('GET /openapi.json documents the execution routes with their response schemas', async () => {
  const res = await stack.anonymous.get('/openapi.json');
  const paths = res.body.paths;
  expect(Object.keys(paths)).toEqual(
    expect.arrayContaining([
      '/executions',
      '/executions/{workflowId}',
      '/executions/{workflowId}/cancel',
      '/executions/{workflowId}/retry',
    ]),
  );
  const detail = paths['/executions/{workflowId}'].get.responses['200'].content['application/json'].schema;
  expect(Object.keys(detail.properties)).toEqual(
    expect.arrayContaining(['status', 'ruleId', 'ruleVersion', 'event', 'result', 'timeline']),
  );
  expect(paths['/executions'].get.parameters.map((p: any) => p.name)).toEqual(
    expect.arrayContaining(['ruleId', 'eventName', 'eventId', 'status', 'limit', 'cursor']),
  );
});
