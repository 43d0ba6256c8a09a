/**
 * Rule authoring on the real stack: the event catalogue ingest builds (types, masked examples, caps),
 * the warnings rule writes and dry runs answer from it, quoted-name paths in conditions, templates and
 * recipients (through a real run to the outbox), the refused path forms, and body-less POSTs.
 */
import http from 'node:http';
import { eventually, startStack, type AccountClient, type Stack } from '../helpers/stack';

let stack: Stack;
let acct: AccountClient;
const uniq = Math.random().toString(36).slice(2, 8);
const eventName = `job.authored${uniq}`;

const job = (over: Record<string, unknown> = {}) => ({
  number: 'J-1',
  total: 2500,
  status: 'Done',
  'job-id': 'JX-9',
  client: { name: 'Ann', 'first name': 'Ann', phone: '+15551234567', email: 'ann@example.com' },
  items: [{ sku: 'pump' }, { sku: 'valve' }],
  ...over,
});

async function send(name: string, payload: unknown) {
  const res = await acct.post('/events', { name, payload });
  expect(res.status).toBe(202);
}

beforeAll(async () => {
  stack = await startStack();
  acct = await stack.account('Authoring');
  await send(eventName, { job: job() });
  await send(eventName, { job: job({ total: '2500', note: null }), apiToken: 'sk_live_abc' });
  await send(eventName, { job: job() });
});
afterAll(async () => {
  await stack?.stop();
});

const rule = (over: Record<string, unknown> = {}) => ({
  name: 'Authoring',
  trigger: { eventName },
  conditions: { all: [{ fact: 'job', path: '$.total', operator: 'greaterThan', value: 100 }] },
  actions: [
    {
      type: 'sms',
      params: {
        recipient: { source: 'fact', fact: 'job', path: '$.client.phone' },
        message: 'Job {{job.number}}',
      },
    },
  ],
  ...over,
});

describe('the event catalogue', () => {
  test('types, masked examples, first/last seen and a count per event type', async () => {
    const list = await acct.get('/event-types');
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([
      expect.objectContaining({ name: eventName, count: 3, truncated: false, pathCount: expect.any(Number) }),
    ]);
    const detail = await acct.get(`/event-types/${eventName}`);
    expect(detail.status).toBe(200);
    const at = (fact: string, path: string) =>
      detail.body.paths.find((p: any) => p.fact === fact && p.path === path);
    expect(at('job', '$')).toMatchObject({ types: ['object'], example: null });
    expect(at('job', '$.total').types.sort()).toEqual(['number', 'string']);
    expect(at('job', '$.client.phone')).toEqual({
      fact: 'job',
      path: '$.client.phone',
      types: ['string'],
      example: '+1555•••67',
    });
    expect(at('job', '$.client.email').example).toBe('a•••@example.com');
    expect(at('job', "$.client['first name']")).toMatchObject({ types: ['string'], example: 'Ann' });
    expect(at('job', "$['job-id']")).toMatchObject({ example: 'JX-9' });
    expect(at('job', '$.items[*].sku')).toMatchObject({ types: ['string'] });
    expect(at('job', '$.note')).toMatchObject({ types: ['null'] });
    expect(at('apiToken', '$')).toMatchObject({ types: ['string'], example: '•••' });
    expect(JSON.stringify(detail.body)).not.toMatch(/5551234567|ann@example|sk_live/);
    expect(Date.parse(detail.body.firstSeen)).toBeLessThanOrEqual(Date.parse(detail.body.lastSeen));
  });

  test('bounded: a payload with 10,000 distinct keys records at most 200 paths and says so', async () => {
    const big = `big.keys${uniq}`;
    const wide = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, i]));
    await send(big, { wide, deep: { a: { b: { c: { d: { e: { f: { g: { h: { i: { j: 1 } } } } } } } } } } });
    const detail = await acct.get(`/event-types/${big}`);
    expect(detail.body).toMatchObject({ name: big, count: 1, truncated: true });
    expect(detail.body.paths.length).toBeLessThanOrEqual(200);
    expect(detail.body.pathCount).toBe(detail.body.paths.length);
    expect(detail.body.paths.map((p: any) => p.path)).not.toContain('$.a.b.c.d.e.f.g.h.i.j');
  });

  test('another account sees none of it; DELETE forgets one event type', async () => {
    const other = await stack.account('Other');
    expect((await other.get('/event-types')).body.items).toEqual([]);
    expect((await other.get(`/event-types/${eventName}`)).status).toBe(404);
    expect((await other.delete(`/event-types/${eventName}`)).status).toBe(404);
    const name = `forget.me${uniq}`;
    await send(name, { x: { y: 1 } });
    expect((await acct.get(`/event-types/${name}`)).status).toBe(200);
    expect((await acct.delete(`/event-types/${name}`)).status).toBe(204);
    expect((await acct.get(`/event-types/${name}`)).status).toBe(404);
    expect((await acct.delete(`/event-types/${name}`)).status).toBe(404);
    expect((await acct.get('/event-types/not a name')).status).toBe(404);
  });
});

describe('warnings at write time', () => {
  test('each kind, with the nearest known path as the suggestion; the rule is saved', async () => {
    const res = await acct.post(
      '/rules',
      rule({
        conditions: {
          all: [
            { fact: 'job', path: '$.totl', operator: 'greaterThan', value: 100 },
            { fact: 'jobb', path: '$.total', operator: 'greaterThan', value: 100 },
            { fact: 'job', path: '$.client.name', operator: 'greaterThan', value: 5 },
          ],
        },
        actions: [
          {
            type: 'sms',
            params: {
              recipient: { source: 'fact', fact: 'job', path: '$.client.phon' },
              message: 'Job {{job.nmber}} for {{job.client.name}}',
            },
          },
        ],
      }),
    );
    expect(res.status).toBe(201);
    expect(res.body.warnings).toEqual([
      expect.objectContaining({
        code: 'unknown_path',
        path: 'conditions.all[0].path',
        suggestion: '$.total',
      }),
      expect.objectContaining({ code: 'unknown_fact', path: 'conditions.all[1].fact', suggestion: 'job' }),
      expect.objectContaining({ code: 'numeric_operator_on_string', path: 'conditions.all[2].operator' }),
      expect.objectContaining({
        code: 'unknown_recipient_path',
        path: 'actions[0].params.recipient.path',
        suggestion: '$.client.phone',
      }),
      expect.objectContaining({
        code: 'unknown_placeholder',
        path: 'actions[0].params.message',
        suggestion: '{{job.number}}',
      }),
    ]);
    expect(res.body.warnings[0].message).toBe(
      `"$.totl" on fact job was never seen in "${eventName}" events: it reads null`,
    );
    expect((await acct.get(`/rules/${res.body.id}`)).status).toBe(200);
    // PATCH and PUT answer them too; a fixed rule has none.
    const patched = await acct.patch(`/rules/${res.body.id}`, { conditions: rule().conditions });
    expect(patched.body.warnings.map((w: any) => w.code)).toEqual([
      'unknown_recipient_path',
      'unknown_placeholder',
    ]);
    const put = await acct.put(`/rules/${res.body.id}`, rule());
    expect(put.body.warnings).toEqual([]);
  });

  test('no catalogue for the event yet: one warning saying checks were not possible', async () => {
    const res = await acct.post('/rules', rule({ trigger: { eventName: `never.seen${uniq}` } }));
    expect(res.status).toBe(201);
    expect(res.body.warnings).toEqual([
      {
        code: 'no_catalogue',
        path: 'trigger.eventName',
        message: `no "never.seen${uniq}" event has been seen in this account yet, so its facts, paths, placeholders and recipients could not be checked`,
      },
    ]);
  });

  test('POST /rules/test adds placeholders that rendered empty and condition facts that read null', async () => {
    const res = await acct.post('/rules/test', {
      rule: rule({
        actions: [{ type: 'sms', params: { recipient: '+15550001111', message: 'Job {{job.number}}' } }],
      }),
      event: { name: eventName, payload: { job: { client: {} } } },
    });
    expect(res.status).toBe(200);
    expect(res.body.warnings).toEqual([
      {
        code: 'null_fact',
        path: 'conditions.all[0].path',
        message: 'fact job at "$.total" read null for this event',
      },
      {
        code: 'empty_placeholder',
        path: 'actions[0].params.message',
        message: '{{job.number}} rendered empty for this event',
      },
    ]);
  });
});

describe('paths as RFC 9535 specifies them', () => {
  test('quoted names in conditions, templates and recipients, through a real run', async () => {
    const body = rule({
      conditions: { all: [{ fact: 'job', path: "$.client['first name']", operator: 'equal', value: 'Zoë' }] },
      actions: [
        {
          type: 'sms',
          params: {
            recipient: { source: 'fact', fact: 'job', path: "$['contact-phone']" },
            message: `Hi {{job.client['first name']}}, job {{job["job-id"]}}: {{job.items[-1].sku}}`,
          },
        },
      ],
    });
    const created = await acct.post('/rules', { ...body, trigger: { eventName: `quoted${uniq}` } });
    expect(created.status).toBe(201);
    const payload = { job: { ...job(), client: { 'first name': 'Zoë' }, 'contact-phone': '+15557654321' } };
    const dry = await acct.post(`/rules/${created.body.id}/test`, {
      event: { name: `quoted${uniq}`, payload },
    });
    expect(dry.body).toMatchObject({
      matched: true,
      actions: [{ to: '+15557654321', body: 'Hi Zoë, job JX-9: valve' }],
    });
    await acct.post('/events', { id: `q-${uniq}`, name: `quoted${uniq}`, payload });
    const sms = await eventually(async () => {
      const out = await acct.get('/outbox?channel=sms');
      return out.body.items.find((m: any) => m.ruleId === created.body.id);
    }, 30_000);
    expect(sms).toMatchObject({ recipient: '+15557654321', body: 'Hi Zoë, job JX-9: valve' });
  });

  test.each([
    [
      'an index with a leading zero',
      { path: '$.items[01]' },
      'conditions.all[0].path',
      /leading zero.*write \[1\]/,
    ],
    ['a dash after "."', { path: '$.job-id' }, 'conditions.all[0].path', /write \$\['job-id'\]/],
    ['a bad escape', { path: "$['a\\q']" }, 'conditions.all[0].path', /not an escape/],
    [
      'a path without $',
      { path: 'total' },
      'conditions.all[0].path',
      /^path "total" on fact job: write "\$\.total"$/,
    ],
  ])('refused: %s', async (_what, cond, at, message) => {
    const res = await acct.post(
      '/rules',
      rule({ conditions: { all: [{ fact: 'job', operator: 'equal', value: 1, ...cond }] } }),
    );
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ path: at, message: expect.stringMatching(message) }]);
  });

  test('refused in templates and recipients too', async () => {
    const res = await acct.post(
      '/rules',
      rule({
        actions: [
          {
            type: 'sms',
            params: {
              recipient: { source: 'fact', fact: 'job', path: 'client.phone' },
              message: '{{job.job-id}}',
            },
          },
        ],
      }),
    );
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([
      {
        path: 'actions[0].params.recipient.path',
        message: 'path "client.phone" on fact job: write "$.client.phone"',
      },
      { path: 'actions[0].params.message', message: expect.stringMatching(/write job\['job-id'\]/) },
    ]);
  });
});

test('a body-less POST with Content-Type: application/json and no Content-Length is accepted, not 415', async () => {
  const created = await acct.post('/rules', rule({ delay: { value: 1, unit: 'hours' } }));
  const eventId = `bodyless-${uniq}`;
  await acct.post('/events', { id: eventId, name: eventName, payload: { job: job() } });
  const workflowId = `run-${created.body.id}-${eventId}`;
  await eventually(async () => (await acct.get(`/executions/${workflowId}`)).status === 200 || undefined);
  // As `curl -X POST -H 'Content-Type: application/json'` sends it: no body, no Content-Length.
  const status = await new Promise<number>((resolve, reject) => {
    const req = http.request(`${stack.url}/executions/${workflowId}/cancel`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${acct.apiKey}`, 'Content-Type': 'application/json' },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
  expect(status).toBe(202);
  // Text on a write is still refused clearly.
  const text = await fetch(`${stack.url}/rules`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${acct.apiKey}`, 'Content-Type': 'text/plain' },
    body: 'hello',
  });
  expect(text.status).toBe(415);
});
