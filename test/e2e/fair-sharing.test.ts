/**
 * Fair sharing on the real stack: every run carries its account as its Temporal fairness key, and the
 * API bounds the event starts one account has in flight (a batch is paced, a flood gets 429 per event).
 */
import { startStack, eventually, type Stack } from '../helpers/stack';

let stack: Stack;
beforeAll(async () => {
  // One start at a time per account, so a few concurrent batches overflow the account's queue.
  stack = await startStack({ EVENTS_MAX_IN_FLIGHT_PER_ACCOUNT: '1' });
});
afterAll(async () => {
  await stack?.stop();
});

const uniq = () => Math.random().toString(36).slice(2, 10);

test('event runs and rule runs carry the account as their fairness key', async () => {
  const acct = await stack.account();
  const eventName = `job.fair${uniq()}`;
  const rule = await acct.post('/rules', {
    name: 'Fair',
    trigger: { eventName },
    actions: [{ type: 'sms', params: { recipient: '+15551230000', message: 'hi' } }],
  });
  expect(rule.status).toBe(201);
  const sent = await acct.post('/events', { id: 'f1', name: eventName, payload: {} });
  expect(sent.status).toBe(202);
  const event = await stack.temporal.workflow.getHandle(sent.body.workflowId).describe();
  expect(event.raw.workflowExecutionInfo?.priority?.fairnessKey).toBe(acct.id);
  const run = stack.temporal.workflow.getHandle(`run-${rule.body.id}-f1`);
  const described = await eventually(() => run.describe(), 15_000, 'the rule run');
  expect(described.raw.workflowExecutionInfo?.priority?.fairnessKey).toBe(acct.id);
  expect(await run.result()).toMatchObject({ outcome: 'sent' });
});

test('a batch of 100 is paced through the bound, not refused', async () => {
  const acct = await stack.account();
  const events = Array.from({ length: 100 }, (_, i) => ({
    id: `b${i}`,
    name: 'nothing.matches',
    payload: {},
  }));
  const res = await acct.post('/events/batch', { events });
  expect(res.status).toBe(200);
  expect(res.body.results.map((r: any) => r.status)).toEqual(Array(100).fill(202));
});

test('a flood of batches from one account: the overflow gets 429 too_many_in_flight with retryAfterSeconds, others still get in', async () => {
  const flooder = await stack.account('Flooder');
  const other = await stack.account('Other');
  const batch = (n: number) => ({
    events: Array.from({ length: 100 }, (_, i) => ({
      id: `x${n}-${i}-${uniq()}`,
      name: 'nothing.matches',
      payload: {},
    })),
  });
  const [responses, alone] = await Promise.all([
    Promise.all([0, 1, 2, 3, 4, 5].map((n) => flooder.post('/events/batch', batch(n)))),
    other.post('/events', { name: 'nothing.matches', payload: {} }),
  ]);
  expect(alone.status).toBe(202);
  const results = responses.flatMap((r) => r.body.results);
  const limited = results.filter((r: any) => r.status === 429);
  expect(limited.length).toBeGreaterThan(0);
  expect(limited[0]).toMatchObject({ error: { code: 'too_many_in_flight' }, retryAfterSeconds: 1 });
  expect(results.filter((r: any) => r.status === 202).length).toBeGreaterThan(400);
  const withLimited = responses.find((r) => r.body.results.some((x: any) => x.status === 429))!;
  expect(withLimited.headers.get('retry-after')).toBe('1');
});
