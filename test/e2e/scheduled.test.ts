/** Scheduled rules end to end: a Temporal Schedule per rule, ticks over the account's users. */
import { ScheduleNotFoundError } from '@temporalio/client';
import { startStack, eventually, type AccountClient, type Stack } from '../helpers/stack';
import { startReceiver } from '../helpers/receiver';

let stack: Stack;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let acct: AccountClient;
beforeAll(async () => {
  stack = await startStack();
  receiver = await startReceiver();
  acct = await stack.account();
});
afterAll(async () => {
  await receiver?.close();
  await stack?.stop();
});

const certRule = (url: string) => ({
  name: 'Certification expiring',
  trigger: { schedule: { cron: '0 9 * * MON', timezone: 'America/Chicago' } },
  delay: { value: 0, unit: 'seconds' },
  conditions: {
    all: [{ fact: 'user', path: '$.attributes.certExpiresInDays', operator: 'lessThanInclusive', value: 30 }],
  },
  actions: [
    {
      type: 'webhook',
      params: { url, payload: { user: '{{user.name}}', days: '{{user.attributes.certExpiresInDays}}' } },
    },
    {
      type: 'sms',
      params: {
        recipient: { source: 'user', field: 'phone' },
        message: 'Hi {{user.name}}, renew your certification',
      },
    },
  ],
});

test('run-now ticks over the users, delivering once to each matching user, and the log shows the counts', async () => {
  const users = [
    { externalId: 't1', name: 'Ann', phone: '+15550000001', attributes: { certExpiresInDays: 10 } },
    { externalId: 't2', name: 'Bob', phone: '+15550000002', attributes: { certExpiresInDays: 90 } },
    { externalId: 't3', name: 'Cy', phone: '+15550000003', attributes: { certExpiresInDays: 30 } },
  ];
  for (const u of users) expect((await acct.post('/users', u)).status).toBe(201);
  const rule = await acct.post('/rules', certRule(`${receiver.url}/cert`));
  expect(rule.status).toBe(201);
  const ruleId: string = rule.body.id;

  const schedule = await stack.temporal.schedule.getHandle(`schedule-${ruleId}`).describe();
  expect(JSON.stringify(schedule.spec)).toContain('America/Chicago');
  expect(schedule.state.paused).toBe(false);

  expect((await acct.post(`/rules/${ruleId}/run-now`, {})).status).toBe(202);
  const hooks = await eventually(
    () => {
      const got = receiver.received.filter((r) => r.path === '/cert');
      return got.length >= 2 ? got : undefined;
    },
    30_000,
    'two deliveries',
  );
  expect(hooks.map((h) => h.body.user).sort()).toEqual(['Ann', 'Cy']);

  const tick = await eventually(
    async () => {
      const list = await acct.get(`/executions?ruleId=${ruleId}`);
      const done = list.body.items?.find((i: any) => i.status === 'completed');
      return done;
    },
    30_000,
    'the tick in the execution log',
  );
  const detail = await acct.get(`/executions/${tick.workflowId}`);
  expect(detail.body.result).toMatchObject({
    outcome: 'completed',
    checked: 3,
    matched: 2,
    delivered: 4,
    failed: 0,
  });

  const outbox = await acct.get('/outbox?channel=sms');
  expect(outbox.body.items.map((m: any) => m.recipient).sort()).toEqual(['+15550000001', '+15550000003']);
  await new Promise((r) => setTimeout(r, 1000));
  expect(receiver.received.filter((r) => r.path === '/cert')).toHaveLength(2);
}, 90_000);

test('disabling pauses the Schedule, enabling resumes it, an edit updates it, deleting removes it', async () => {
  const rule = await acct.post('/rules', certRule(`${receiver.url}/x`));
  const id: string = rule.body.id;
  const handle = stack.temporal.schedule.getHandle(`schedule-${id}`);
  expect((await acct.patch(`/rules/${id}`, { enabled: false })).status).toBe(200);
  expect((await handle.describe()).state.paused).toBe(true);
  expect((await acct.post(`/rules/${id}/run-now`, {})).status).toBe(409);
  expect((await acct.patch(`/rules/${id}`, { enabled: true })).status).toBe(200);
  expect((await handle.describe()).state.paused).toBe(false);
  const edited = await acct.patch(`/rules/${id}`, {
    trigger: { schedule: { cron: '30 7 * * *', timezone: 'Europe/Paris' } },
  });
  expect(edited.status).toBe(200);
  const described = await handle.describe();
  expect(JSON.stringify(described.spec)).toContain('Europe/Paris');
  expect((await acct.delete(`/rules/${id}`)).status).toBe(204);
  await expect(handle.describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
});

test('a rule switched from a schedule to an event loses its Schedule; bad schedules are refused', async () => {
  const rule = await acct.post('/rules', certRule(`${receiver.url}/y`));
  const id: string = rule.body.id;
  expect((await acct.patch(`/rules/${id}`, { trigger: { eventName: 'job.created' } })).status).toBe(200);
  await expect(stack.temporal.schedule.getHandle(`schedule-${id}`).describe()).rejects.toBeInstanceOf(
    ScheduleNotFoundError,
  );
  for (const schedule of [
    { cron: '61 * * * *', timezone: 'UTC' },
    { cron: '* * * * * *', timezone: 'UTC' },
    { cron: '0 9 * * MON', timezone: 'Mars/Olympus' },
  ]) {
    const res = await acct.post('/rules', { ...certRule(`${receiver.url}/z`), trigger: { schedule } });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].path).toMatch(/^trigger\.schedule\.(cron|timezone)$/);
  }
  expect((await acct.post(`/rules/${id}/run-now`, {})).status).toBe(409);
});
