/**
 * The `Outcome` search attribute on the real stack: one event runs five rules that end sent,
 * conditions_not_met, skipped, failed and cancelled; GET /executions carries and filters by the outcome
 * (with since/until), and GET /executions/stats counts them per rule (and /stats/daily per day).
 */
import { startReceiver } from '../helpers/receiver';
import { eventually, startStack, type AccountClient, type Stack } from '../helpers/stack';

let stack: Stack;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let acct: AccountClient;
const uniq = Math.random().toString(36).slice(2, 8);
const eventName = `job.outcome${uniq}`;
const eventId = `evt-outcome-${uniq}`;
const ids: Record<string, string> = {};
let startedAt: string;

const rule = (name: string, over: Record<string, unknown> = {}, path = '/ok') => ({
  name,
  trigger: { eventName },
  delay: { value: 0, unit: 'seconds' },
  conditions: { all: [{ fact: 'job', path: '$.status', operator: 'equal', value: 'Done' }] },
  actions: [{ type: 'webhook', params: { url: `${receiver.url}${path}`, payload: { n: '{{job.number}}' } } }],
  ...over,
});

beforeAll(async () => {
  stack = await startStack();
  receiver = await startReceiver((r) =>
    r.path === '/reject' ? { status: 400, body: 'no' } : { status: 200 },
  );
  acct = await stack.account('Outcomes');
  const rules = {
    sent: rule('Sends'),
    conditions_not_met: rule('Never matches', {
      conditions: { all: [{ fact: 'job', path: '$.status', operator: 'equal', value: 'Never' }] },
    }),
    skipped: rule('Disabled during its delay', { delay: { value: 3, unit: 'seconds' } }),
    failed: rule('Rejected webhook', {}, '/reject'),
    cancelled: rule('Cancelled while sleeping', { delay: { value: 1, unit: 'hours' } }),
  };
  for (const [outcome, body] of Object.entries(rules)) {
    const res = await acct.post('/rules', body);
    expect(res.status).toBe(201);
    ids[outcome] = res.body.id;
  }
  startedAt = new Date(Date.now() - 1000).toISOString();
  const ev = await acct.post('/events', {
    id: eventId,
    name: eventName,
    payload: { job: { status: 'Done', number: 7 } },
  });
  expect(ev.status).toBe(202);
  const started = (outcome: string) =>
    eventually(
      async () => (await acct.get(`/executions/run-${ids[outcome]}-${eventId}`)).status === 200 || undefined,
    );
  // Disabled once its run sleeps (before, the event would not have matched it at all).
  await started('skipped');
  expect((await acct.patch(`/rules/${ids.skipped}`, { enabled: false })).status).toBe(200);
  const sleeping = `run-${ids.cancelled}-${eventId}`;
  await started('cancelled');
  // A body-less POST with Content-Type: application/json (as many HTTP clients send it) is accepted.
  const cancel = await fetch(`${stack.url}/executions/${sleeping}/cancel`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${acct.apiKey}`, 'Content-Type': 'application/json' },
  });
  expect(cancel.status).toBe(202);
}, 120_000);
afterAll(async () => {
  await receiver?.close();
  await stack?.stop();
});

const OUTCOMES = ['sent', 'conditions_not_met', 'skipped', 'failed', 'cancelled'];

test('every run ends with its outcome; GET /executions carries it and the rule name', async () => {
  const items = await eventually(
    async () => {
      const res = await acct.get(`/executions?eventId=${eventId}&kind=rule-run`);
      const closed = res.body.items.filter((i: any) => i.outcome !== null);
      return closed.length === OUTCOMES.length ? res.body.items : undefined;
    },
    60_000,
    'five closed rule runs in visibility',
  );
  const byRule = Object.fromEntries(items.map((i: any) => [i.ruleId, i]));
  for (const outcome of OUTCOMES) {
    expect(byRule[ids[outcome]]).toMatchObject({ outcome, ruleName: expect.any(String) });
  }
  expect(byRule[ids.sent].ruleName).toBe('Sends');
  expect(byRule[ids.failed].status).toBe('failed');
  expect(byRule[ids.cancelled].status).toBe('cancelled');
  // The detail says the same.
  expect((await acct.get(`/executions/run-${ids.failed}-${eventId}`)).body.outcome).toBe('failed');
});

test('?outcome= filters, combined with the other filters and since/until', async () => {
  for (const outcome of OUTCOMES) {
    const res = await eventually(async () => {
      const r = await acct.get(`/executions?outcome=${outcome}&eventName=${eventName}`);
      return r.body.items.length ? r : undefined;
    });
    expect(res.body.items.map((i: any) => [i.ruleId, i.outcome])).toEqual([[ids[outcome], outcome]]);
  }
  const none = await acct.get(`/executions?outcome=sent&ruleId=${ids.failed}`);
  expect(none.body.items).toEqual([]);
  const inRange = await acct.get(
    `/executions?outcome=sent&since=${startedAt}&until=${new Date(Date.now() + 60_000).toISOString()}`,
  );
  expect(inRange.body.items.map((i: any) => i.ruleId)).toEqual([ids.sent]);
  const later = await acct.get(
    `/executions?outcome=sent&since=${new Date(Date.now() + 60_000).toISOString()}`,
  );
  expect(later.body.items).toEqual([]);
  const earlier = await acct.get(`/executions?eventId=${eventId}&until=${startedAt}`);
  expect(earlier.body.items).toEqual([]);
  expect((await acct.get('/executions?outcome=delivered')).status).toBe(400);
  expect((await acct.get('/executions?since=yesterday')).status).toBe(400);
});

test('GET /executions/stats counts per rule and outcome; another account sees none of it', async () => {
  const zero = { sent: 0, conditions_not_met: 0, skipped: 0, failed: 0, cancelled: 0, suppressed: 0 };
  const stats = await eventually(async () => {
    const r = await acct.get(`/executions/stats?since=${startedAt}`);
    return r.status === 200 && r.body.total.cancelled === 1 && r.body.total.skipped === 1
      ? r.body
      : undefined;
  }, 30_000);
  expect(stats.total).toEqual({
    ...zero,
    sent: 1,
    conditions_not_met: 1,
    skipped: 1,
    failed: 1,
    cancelled: 1,
  });
  for (const outcome of OUTCOMES) {
    const row = stats.rules.find((r: any) => r.ruleId === ids[outcome]);
    expect(row.counts).toEqual({ ...zero, [outcome]: 1 });
  }
  const one = await acct.get(`/executions/stats?since=${startedAt}&ruleId=${ids.sent}`);
  expect(one.body.rules).toEqual([{ ruleId: ids.sent, ruleName: 'Sends', counts: { ...zero, sent: 1 } }]);
  // Rules come a page at a time; the totals are on every page.
  const first = await acct.get(`/executions/stats?since=${startedAt}&limit=2`);
  expect(first.body.rules).toHaveLength(2);
  expect(first.body.total).toEqual(stats.total);
  const second = await acct.get(
    `/executions/stats?since=${startedAt}&limit=100&cursor=${first.body.nextCursor}`,
  );
  expect([...first.body.rules, ...second.body.rules]).toEqual(stats.rules);
  expect(second.body.nextCursor).toBeNull();
  const future = await acct.get(`/executions/stats?since=${new Date(Date.now() + 60_000).toISOString()}`);
  expect(future.body.total).toEqual(zero);
  const other = await (await stack.account('Other')).get(`/executions/stats?since=${startedAt}`);
  expect(other.body).toMatchObject({ total: zero, rules: [] });
  const noSince = await acct.get('/executions/stats');
  expect(noSince.status).toBe(400);
  expect(noSince.body.error.details).toEqual([{ path: 'since', message: 'required' }]);
});

test('GET /executions/stats/daily counts per calendar day and outcome, in the time zone asked', async () => {
  const zero = { sent: 0, conditions_not_met: 0, skipped: 0, failed: 0, cancelled: 0, suppressed: 0 };
  const expected = { ...zero, sent: 1, conditions_not_met: 1, skipped: 1, failed: 1, cancelled: 1 };
  const sum = (days: { counts: typeof zero }[]) =>
    Object.fromEntries(
      Object.keys(zero).map((o) => [o, days.reduce((n, d) => n + d.counts[o as keyof typeof zero], 0)]),
    );
  const today = (timeZone: string) => new Intl.DateTimeFormat('en-CA', { timeZone }).format(new Date());
  // Summed over two days: the runs may straddle midnight.
  const daily = await eventually(async () => {
    const r = await acct.get('/executions/stats/daily?days=3');
    return r.status === 200 && sum(r.body.days).cancelled === 1 && sum(r.body.days).skipped === 1
      ? r.body
      : undefined;
  }, 30_000);
  expect(daily.timezone).toBe('UTC');
  expect(daily.days).toHaveLength(3);
  expect(daily.days[2].date).toBe(today('UTC'));
  expect(sum(daily.days)).toEqual(expected);
  expect(daily.days[0].counts).toEqual(zero);
  for (let i = 0; i < 2; i++) {
    expect(daily.days[i].end).toBe(daily.days[i + 1].start);
    expect(Date.parse(daily.days[i].end) - Date.parse(daily.days[i].start)).toBe(86_400_000);
  }
  expect(daily.days[2].start).toBe(`${today('UTC')}T00:00:00.000Z`);

  // Days in another zone (UTC+14): other dates, the same runs.
  const kiri = await acct.get('/executions/stats/daily?days=2&timezone=Pacific/Kiritimati');
  expect(kiri.body.timezone).toBe('Pacific/Kiritimati');
  expect(kiri.body.days[1].date).toBe(today('Pacific/Kiritimati'));
  expect(kiri.body.days[1].start).toMatch(/T10:00:00\.000Z$/);
  expect(sum(kiri.body.days)).toEqual(expected);

  const one = await acct.get(`/executions/stats/daily?days=2&ruleId=${ids.failed}`);
  expect(sum(one.body.days)).toEqual({ ...zero, failed: 1 });
  const other = await (await stack.account('Other daily')).get('/executions/stats/daily');
  expect(other.body.days).toHaveLength(14);
  expect(sum(other.body.days)).toEqual(zero);
  const bad = await acct.get('/executions/stats/daily?days=0&timezone=Mars/Base');
  expect(bad.status).toBe(400);
  expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['days', 'timezone']);
});
