/**
 * Reminders on the real stack, seconds-scale: a webhook at `until + offset`, cancelled and
 * rescheduled by later events with the same key, duplicates sent once, a worker killed between a
 * reschedule and the new send time; the account timezone, the dry run's send time and validation.
 * One stack without an in-process worker: `npm run worker` processes run the workflows, so one can
 * be killed.
 */
import path from 'node:path';
import { startReceiver } from '../helpers/receiver';
import { spawnNode, type Proc } from '../helpers/process';
import { eventually, startStack, type AccountClient, type Stack } from '../helpers/stack';

let stack: Stack;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let acct: AccountClient;
const workers: Proc[] = [];

/** `npm run worker` on the stack's task queue, once it is polling. */
async function startWorker(): Promise<Proc> {
  const proc = spawnNode(
    ['--import', 'tsx', path.resolve(__dirname, '../../src/worker/main.ts')],
    process.cwd(),
    {
      ...process.env,
      DATABASE_URL: process.env.TEST_DATABASE_URL,
      TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS,
      TEMPORAL_TASK_QUEUE: stack.config.TEMPORAL_TASK_QUEUE,
      // The stack's API encrypts: the worker needs the same keys to read what it started.
      PAYLOAD_ENCRYPTION_KEYS: process.env.TEST_PAYLOAD_ENCRYPTION_KEYS,
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      LOG_LEVEL: 'info',
    },
  );
  workers.push(proc);
  await eventually(
    () => (proc.lines.some((l) => l.msg === 'worker started') ? true : undefined),
    120_000,
    'worker start',
  );
  return proc;
}

let worker: Proc;
beforeAll(async () => {
  stack = await startStack({}, { worker: false });
  receiver = await startReceiver();
  acct = await stack.account('Field service');
  worker = await startWorker();
}, 180_000);
afterAll(async () => {
  for (const w of workers) w.child.kill('SIGKILL');
  await receiver?.close();
  await stack?.stop();
});

const rules: string[] = [];
afterEach(async () => {
  for (const id of rules.splice(0)) await acct.patch(`/rules/${id}`, { enabled: false });
});

const uniq = () => Math.random().toString(36).slice(2, 10);
const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString();

async function reminderRule(hook: string, overrides: Record<string, unknown> = {}): Promise<string> {
  const res = await acct.post('/rules', {
    name: 'Reminder before the job',
    trigger: {
      eventName: 'job.created',
      key: { fact: 'job', path: '$.id' },
      updateOn: ['job.rescheduled'],
      cancelOn: [
        { eventName: 'job.cancelled' },
        {
          eventName: 'job.status.changed',
          conditions: { all: [{ fact: 'job', path: '$.status', operator: 'equal', value: 'Void' }] },
        },
      ],
    },
    delay: { until: { fact: 'job', path: '$.scheduledAt' }, offset: { value: -2, unit: 'seconds' } },
    actions: [
      { type: 'webhook', params: { url: hook, payload: { job: '{{job.id}}', at: '{{job.scheduledAt}}' } } },
    ],
    ...overrides,
  });
  expect(res.status).toBe(201);
  rules.push(res.body.id);
  return res.body.id;
}

async function send(name: string, job: Record<string, unknown>) {
  const res = await acct.post('/events', { id: `e-${uniq()}`, name, payload: { job } });
  expect(res.status).toBe(202);
  return res.body;
}

const hits = (hook: string) => receiver.received.filter((r) => r.path === new URL(hook).pathname);
/** The run's result, once the event run has started it. */
async function result(workflowId: string) {
  const handle = stack.temporal.workflow.getHandle(workflowId);
  await eventually(() => handle.describe().then(() => true), 30_000, `${workflowId} to start`);
  return handle.result();
}
const runId = (ruleId: string, key: string) => `run-${ruleId}~${key}`;

test('the webhook fires at until + offset, once, and the log tells how the time was computed', async () => {
  const hook = `${receiver.url}/at-${uniq()}`;
  const ruleId = await reminderRule(hook);
  const key = `job-${uniq()}`;
  const scheduledAt = inSeconds(8);
  await send('job.created', { id: key, scheduledAt });
  expect((await result(runId(ruleId, key))).outcome).toBe('sent');
  const [hit] = hits(hook);
  // Never early (the timer fires at the send time); a loaded machine may make it a little late.
  expect(hit.at).toBeGreaterThanOrEqual(Date.parse(scheduledAt) - 2000 - 50);
  expect(hit.body).toEqual({ job: key, at: scheduledAt });
  const log = await acct.get(`/executions/${encodeURIComponent(runId(ruleId, key))}`);
  expect(log.status).toBe(200);
  expect(log.body.timeline).toEqual(
    expect.arrayContaining([
      expect.objectContaining({
        type: 'send_time_computed',
        basis: expect.stringContaining('job.scheduledAt'),
      }),
    ]),
  );
  const byKey = await acct.get(`/executions?key=${encodeURIComponent(key)}`);
  expect(byKey.body.items.map((i: { workflowId: string }) => i.workflowId)).toContain(runId(ruleId, key));
}, 90_000);

test('a cancel event stops the pending reminder; a cancel for a key with nothing pending is no error', async () => {
  const hook = `${receiver.url}/cancel-${uniq()}`;
  const ruleId = await reminderRule(hook);
  const key = `job-${uniq()}`;
  await send('job.created', { id: key, scheduledAt: inSeconds(30) });
  await eventually(
    () =>
      stack.temporal.workflow
        .getHandle(runId(ruleId, key))
        .describe()
        .then(() => true),
    30_000,
  );
  // Conditions of a cancelOn entry are evaluated on the cancelling event: this one does not match.
  await send('job.status.changed', { id: key, status: 'Scheduled' });
  await send('job.cancelled', { id: key });
  const r = await result(runId(ruleId, key));
  expect(r).toMatchObject({
    outcome: 'cancelled',
    reason: expect.stringMatching(/^cancelled by job\.cancelled/),
  });
  expect(hits(hook)).toHaveLength(0);

  const other = await send('job.cancelled', { id: `job-${uniq()}` });
  const ev = await stack.temporal.workflow.getHandle(other.workflowId).result();
  expect(ev.matchedRules).toEqual(
    expect.arrayContaining([expect.objectContaining({ ruleId, action: 'no pending run to cancel' })]),
  );
}, 90_000);

test('a reschedule moves the reminder; duplicate trigger events for the key send once', async () => {
  const hook = `${receiver.url}/move-${uniq()}`;
  const ruleId = await reminderRule(hook);
  const key = `job-${uniq()}`;
  await send('job.created', { id: key, scheduledAt: inSeconds(60) });
  await send('job.created', { id: key, scheduledAt: inSeconds(60) });
  const newTime = inSeconds(7);
  await send('job.rescheduled', { id: key, scheduledAt: newTime });
  expect((await result(runId(ruleId, key))).outcome).toBe('sent');
  expect(hits(hook)).toHaveLength(1);
  expect(hits(hook)[0].body.at).toBe(newTime);
  expect(hits(hook)[0].at).toBeGreaterThanOrEqual(Date.parse(newTime) - 2000 - 50);
  const log = await acct.get(`/executions/${encodeURIComponent(runId(ruleId, key))}`);
  expect(log.body.timeline).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ type: 'rescheduled', byEvent: expect.stringContaining('job.rescheduled') }),
    ]),
  );
}, 90_000);

test('the worker killed between a reschedule and the new send time: sent once, at the new time', async () => {
  const hook = `${receiver.url}/kill-${uniq()}`;
  const ruleId = await reminderRule(hook);
  const key = `job-${uniq()}`;
  const sleepingOn = (n: number, what: string) =>
    eventually(
      async () => {
        const h = await stack.temporal.workflow.getHandle(runId(ruleId, key)).fetchHistory();
        const timers = h.events?.filter((e) => e.timerStartedEventAttributes).length ?? 0;
        return timers >= n ? true : undefined;
      },
      60_000,
      what,
    );
  await send('job.created', { id: key, scheduledAt: inSeconds(120) });
  // Asleep on the first send time before the reschedule arrives (both in one workflow task would
  // plan once, with no first timer to move).
  await sleepingOn(1, 'the run to sleep');
  const newTime = inSeconds(20);
  const moved = await send('job.rescheduled', { id: key, scheduledAt: newTime });
  await stack.temporal.workflow.getHandle(moved.workflowId).result(); // the signal has been sent
  // The reschedule's plan is recorded and the run sleeps on its new timer.
  await sleepingOn(2, 'the rescheduled run to sleep');
  worker.child.kill('SIGKILL');
  await worker.exited;
  worker = await startWorker();
  expect((await result(runId(ruleId, key))).outcome).toBe('sent');
  expect(hits(hook)).toHaveLength(1);
  expect(hits(hook)[0].body.at).toBe(newTime);
  expect(hits(hook)[0].at).toBeGreaterThanOrEqual(Date.parse(newTime) - 2000 - 50);
}, 240_000);

test('account timezone, the send time in a dry run (user vs account timezone), and refused timezones', async () => {
  expect((await acct.get('/account')).body).toMatchObject({ id: acct.id, timezone: 'UTC' });
  const refused = await acct.patch('/account', { timezone: 'US/Pacific-New' });
  expect(refused.status).toBe(400);
  expect(refused.body.error.details).toEqual([
    { path: 'timezone', message: expect.stringContaining('IANA') },
  ]);
  expect((await acct.patch('/account', { timezone: 'Europe/Paris' })).body.timezone).toBe('Europe/Paris');
  expect((await acct.get('/account')).body.timezone).toBe('Europe/Paris');
  const user = await acct.post('/users', { externalId: `u-${uniq()}`, timezone: 'America/New_York' });
  expect(user.status).toBe(201);

  const ruleId = await reminderRule(`${receiver.url}/never`, {
    delay: { until: { fact: 'job', path: '$.scheduledAt' }, offset: { value: -24, unit: 'hours' } },
    window: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '08:00', end: '20:00', timezone: 'user' },
  });
  // Saturday 2030-01-05 12:00Z minus a day: Friday 12:00Z is 07:00 in New York (window opens 08:00),
  // and 13:00 in Paris (inside the window).
  const event = { name: 'job.created', payload: { job: { id: 'j1', scheduledAt: '2030-01-05T12:00:00Z' } } };
  const forUser = await acct.post(`/rules/${ruleId}/test`, { event: { ...event, userId: user.body.id } });
  expect(forUser.body.sendTime).toMatchObject({
    status: 'planned',
    dueAt: '2030-01-04T12:00:00.000Z',
    sendAt: '2030-01-04T13:00:00.000Z',
    window: { opensAt: '2030-01-04T13:00:00.000Z', timezone: 'America/New_York' },
  });
  const forAccount = await acct.post(`/rules/${ruleId}/test`, { event });
  expect(forAccount.body.sendTime).toMatchObject({
    sendAt: '2030-01-04T12:00:00.000Z',
    window: null,
    timezone: 'Europe/Paris',
  });

  const bad = await acct.post('/rules', {
    name: 'bad',
    trigger: { eventName: 'job.created', cancelOn: [{ eventName: 'job.cancelled' }] },
    window: { start: '8am', end: '20:00', timezone: 'US/Pacific-New' },
    actions: [{ type: 'webhook', params: { url: `${receiver.url}/never` } }],
  });
  expect(bad.status).toBe(400);
  expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual([
    'trigger.cancelOn',
    'window.start',
    'window.timezone',
  ]);
}, 60_000);
