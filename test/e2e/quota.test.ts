/** Quotas count events (a batch of n uses n), and failed credentials are throttled per client address. */
import { HttpClient, startStack, type Stack } from '../helpers/stack';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack(
    { EVENTS_RATE_LIMIT_PER_MINUTE: '5', AUTH_FAILURES_PER_MINUTE: '4' },
    { worker: false },
  );
});
afterAll(async () => {
  await stack?.stop();
});

const event = (i: number) => ({ name: 'job.created', payload: { i } });

test('a batch uses one event of the quota per event; those past it get 429 entries, the rest are taken', async () => {
  const a = await stack.account('A');
  const b = await stack.account('B');
  expect((await a.post('/events', event(0))).status).toBe(202);
  const res = await a.post('/events/batch', { events: [1, 2, 3, 4, 5, 6].map(event) });
  expect(res.status).toBe(200);
  expect(res.body.results.map((r: any) => r.status)).toEqual([202, 202, 202, 202, 429, 429]);
  expect(res.body.results[4].error.code).toBe('rate_limited');
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  const single = await a.post('/events', event(7));
  expect(single.status).toBe(429);
  expect(single.body.error.code).toBe('rate_limited');
  expect(Number(single.headers.get('retry-after'))).toBeGreaterThan(0);
  // Another account has a budget of its own.
  const other = await b.post('/events/batch', { events: [1, 2, 3, 4, 5].map(event) });
  expect(other.body.results.map((r: any) => r.status)).toEqual([202, 202, 202, 202, 202]);
});

test('failed API keys and admin tokens: 401, then 429 past the burst; valid credentials pass all along', async () => {
  const acct = await stack.account('Valid');
  const wrong = new HttpClient(stack.url, 'crm_wrong');
  const wrongAdmin = new HttpClient(stack.url, 'not-the-admin-token');
  expect((await wrong.get('/rules')).status).toBe(401);
  expect((await wrongAdmin.post('/accounts', { name: 'x' })).status).toBe(401);
  expect((await stack.anonymous.get('/rules')).status).toBe(401);
  expect((await wrong.get('/rules')).status).toBe(401);
  const throttled = await wrong.get('/rules');
  expect(throttled.status).toBe(429);
  expect(throttled.body.error.code).toBe('too_many_failures');
  expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
  expect((await wrongAdmin.post('/accounts', { name: 'x' })).status).toBe(429);
  // The same address with a valid key or the admin token is not slowed down.
  expect((await acct.get('/rules')).status).toBe(200);
  expect((await new HttpClient(stack.url, stack.adminToken).post('/accounts', { name: 'y' })).status).toBe(
    201,
  );
});
