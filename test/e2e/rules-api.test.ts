/**
 * The rules API on the real stack (PostgreSQL, the Temporal dev server, the API over HTTP): CRUD,
 * validation messages, the seed rules, tenant isolation, pagination, the dry run and hostile input.
 */
import { startReceiver } from '../helpers/receiver';
import { startStack, type AccountClient, type Stack } from '../helpers/stack';

let stack: Stack;
let acct: AccountClient;
let other: AccountClient;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  stack = await startStack();
  receiver = await startReceiver();
  acct = await stack.account('Rules owner');
  other = await stack.account('Someone else');
});
afterAll(async () => {
  await receiver?.close();
  await stack?.stop();
});

const TEMPLATE_ID = 'new-high-value-job-template';

/** The two example rules of shared/seeds/001_9dbc22cd15f724e1.txt, as written there. */
const seedSimple = {
  _id: "ObjectId('64a5b8e8f1b2c3d4e5f6a7b1')",
  name: 'Notify Technician 5 Mins After Job Completion',
  description: "Sends an SMS to the assigned technician 5 minutes after a job's status is changed to 'Done'.",
  accountId: 'acc_12345',
  enabled: true,
  trigger: { eventName: 'job.status.changed' },
  delay: { value: 5, unit: 'minutes' },
  conditions: {
    all: [
      { fact: 'job', path: '$.status', operator: 'equal', value: 'Done' },
      { fact: 'job', path: '$.assignedTechnician.phone', operator: 'notEqual', value: null },
    ],
  },
  actions: [
    {
      type: 'sms',
      params: {
        recipient: { source: 'fact', fact: 'job', path: '$.assignedTechnician.phone' },
        message:
          'Hi {{job.assignedTechnician.name}}, job #{{job.number}} for {{job.client.name}} has been completed.',
      },
    },
  ],
  createdAt: '2023-07-05T12:00:00Z',
  updatedAt: '2023-07-05T12:00:00Z',
};

/** The seed's webhook URL is a mangled markdown link; a real https URL stands in for it. */
const seedComplex = {
  _id: "ObjectId('99f8a7e7e6d5c4b3a2987654')",
  name: 'Alert on New High-Value Job',
  description: 'Notifies the regional manager and updates the CRM when a job over $2000 is created.',
  accountId: 'acc_12345',
  enabled: true,
  trigger: { eventName: 'job.created' },
  delay: { value: 0, unit: 'minutes' },
  conditions: {
    all: [
      { fact: 'job', path: '$.total', operator: 'greaterThanInclusive', value: 2000 },
      { fact: 'job', path: '$.client.type', operator: 'equal', value: 'Commercial' },
    ],
  },
  actions: [
    {
      type: 'email',
      params: {
        recipient: 'manager@CRM.com',
        subject: 'New High-Value Job: #{{job.number}}',
        templateId: TEMPLATE_ID,
      },
    },
    {
      type: 'webhook',
      params: {
        url: 'https://hooks.crm.com/new-lead',
        payload: {
          source: 'CRM Automation',
          jobId: '{{job.id}}',
          clientName: '{{job.client.name}}',
          value: '{{job.total}}',
        },
      },
    },
  ],
  createdAt: '2023-07-06T10:00:00Z',
  updatedAt: '2023-07-06T10:00:00Z',
};

const template = {
  name: 'New high-value job',
  subject: 'High-value job {{job.number}}',
  text: 'Job {{job.number}} for {{job.client.name}}: ${{job.total}}',
  html: '<p>Job <b>{{job.number}}</b> for {{job.client.name}}</p>',
};

function smsRule(overrides: Record<string, unknown> = {}) {
  return {
    name: 'SMS on done',
    trigger: { eventName: 'job.status.changed' },
    conditions: { all: [{ fact: 'job', path: '$.status', operator: 'equal', value: 'Done' }] },
    actions: [{ type: 'sms', params: { recipient: '+15551234567', message: 'Job {{job.number}} done' } }],
    ...overrides,
  };
}

async function create(client: AccountClient, body: unknown): Promise<any> {
  const res = await client.post('/rules', body);
  expect(res.status).toBe(201);
  return res.body;
}

/** The one warning of a rule whose event this account has not sent yet (src/services/warnings.ts). */
const noCatalogue = (eventName = 'job.status.changed') => ({
  code: 'no_catalogue',
  path: 'trigger.eventName',
  message: expect.stringContaining(`no "${eventName}" event has been seen`),
});

function expectError(res: { status: number; body: any }, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.body).toEqual({
    error: { code, message: expect.any(String), details: expect.any(Array) },
  });
}

describe('the seed rules', () => {
  beforeAll(async () => {
    expect((await acct.put(`/templates/${TEMPLATE_ID}`, template)).status).toBe(201);
  });

  test('the simple seed rule is accepted as written; accountId and _id in the body are ignored', async () => {
    const { warnings, ...rule } = await create(acct, seedSimple);
    expect(warnings).toEqual([noCatalogue()]);
    expect(rule).toEqual({
      id: expect.stringMatching(/^rule_/),
      name: seedSimple.name,
      description: seedSimple.description,
      enabled: true,
      trigger: seedSimple.trigger,
      delay: seedSimple.delay,
      conditions: seedSimple.conditions,
      actions: seedSimple.actions,
      version: 1,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(rule.createdAt).not.toBe(seedSimple.createdAt);
    const stored = await stack.db.query('SELECT account_id FROM rules WHERE id = $1', [rule.id]);
    expect(stored[0].account_id).toBe(acct.id);
    expect((await acct.get(`/rules/${rule.id}`)).body).toEqual(rule);
  });

  test('the complex seed rule is accepted with a real URL and its template created first', async () => {
    const rule = await create(acct, seedComplex);
    expect(rule.actions).toEqual([
      seedComplex.actions[0],
      { ...seedComplex.actions[1], params: { ...seedComplex.actions[1].params, method: 'POST' } },
    ]);
    expect(rule.conditions).toEqual(seedComplex.conditions);
  });

  test('the complex seed rule is refused while its template does not exist', async () => {
    const res = await other.post('/rules', seedComplex);
    expectError(res, 400, 'validation_failed');
    expect(res.body.error.details).toEqual([
      { path: 'actions[0].params.templateId', message: `no template "${TEMPLATE_ID}" in this account` },
    ]);
  });

  test('a dry run of the complex seed renders the template, the email and the typed webhook payload', async () => {
    const rule = await create(acct, seedComplex);
    const event = {
      name: 'job.created',
      payload: {
        job: { id: 'job_1', number: 'J-9', total: 2500, client: { name: 'Ann & <Co>', type: 'Commercial' } },
      },
    };
    const res = await acct.post(`/rules/${rule.id}/test`, { event });
    expect(res.status).toBe(200);
    expect(res.body.matched).toBe(true);
    expect(res.body.actions).toEqual([
      {
        index: 0,
        type: 'email',
        to: 'manager@CRM.com',
        subject: 'New High-Value Job: #J-9',
        text: 'Job J-9 for Ann & <Co>: $2500',
        html: '<p>Job <b>J-9</b> for Ann &amp; &lt;Co&gt;</p>',
      },
      {
        index: 1,
        type: 'webhook',
        url: 'https://hooks.crm.com/new-lead',
        method: 'POST',
        payload: { source: 'CRM Automation', jobId: 'job_1', clientName: 'Ann & <Co>', value: 2500 },
      },
    ]);
  });
});

describe('CRUD', () => {
  test('create, read, replace (version + 1), patch (version + 1), delete', async () => {
    const created = await create(acct, smsRule());
    expect(created.version).toBe(1);
    expect(created).toMatchObject({ enabled: true, delay: { value: 0, unit: 'minutes' }, description: null });

    const put = await acct.put(
      `/rules/${created.id}`,
      smsRule({ name: 'Renamed', delay: { value: 2, unit: 'hours' } }),
    );
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({
      id: created.id,
      name: 'Renamed',
      version: 2,
      delay: { value: 2, unit: 'hours' },
    });
    expect(put.body.createdAt).toBe(created.createdAt);
    expect(Date.parse(put.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(created.updatedAt));

    const patched = await acct.patch(`/rules/${created.id}`, { enabled: false });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'Renamed', enabled: false, version: 3 });
    expect(patched.body.actions).toEqual(created.actions);

    // A GET answer can be sent back as a PUT: the fields the API sets are ignored.
    const roundTrip = await acct.put(`/rules/${created.id}`, patched.body);
    expect(roundTrip.status).toBe(200);
    expect(roundTrip.body.version).toBe(4);

    const del = await acct.delete(`/rules/${created.id}`);
    expect(del.status).toBe(204);
    expect(del.body).toBeNull();
    expectError(await acct.get(`/rules/${created.id}`), 404, 'not_found');
    expectError(await acct.delete(`/rules/${created.id}`), 404, 'not_found');
    expectError(await acct.patch(`/rules/${created.id}`, { enabled: true }), 404, 'not_found');
  });

  test('PATCH merges, then validates the whole rule', async () => {
    const rule = await create(acct, smsRule());
    const bad = await acct.patch(`/rules/${rule.id}`, {
      actions: [{ type: 'email', params: { recipient: 'a@b.co', templateId: 'no-such-template' } }],
    });
    expectError(bad, 400, 'validation_failed');
    expect(bad.body.error.details).toEqual([
      { path: 'actions[0].params.templateId', message: 'no template "no-such-template" in this account' },
    ]);
    const typeErr = await acct.patch(`/rules/${rule.id}`, { delay: { value: 'soon', unit: 'days' } });
    expect(typeErr.body.error.details).toEqual([{ path: 'delay.value', message: 'must be a number' }]);
    const unknown = await acct.patch(`/rules/${rule.id}`, { colour: 'red' });
    expect(unknown.body.error.details).toEqual([{ path: 'colour', message: 'unknown field' }]);
    // Nothing was written by the refused patches.
    expect((await acct.get(`/rules/${rule.id}`)).body.version).toBe(1);

    const ok = await acct.patch(`/rules/${rule.id}`, {
      description: 'now with a delay',
      delay: { value: 30, unit: 'seconds' },
      accountId: other.id,
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      description: 'now with a delay',
      delay: { value: 30, unit: 'seconds' },
      version: 2,
    });
    expect(ok.body.conditions).toEqual(rule.conditions);
    expect(
      (await stack.db.query('SELECT account_id FROM rules WHERE id = $1', [rule.id]))[0].account_id,
    ).toBe(acct.id);
  });

  test('concurrent PATCHes each get a version of their own and none is lost', async () => {
    const rule = await create(acct, smsRule());
    const results = await Promise.all([
      acct.patch(`/rules/${rule.id}`, { name: 'A' }),
      acct.patch(`/rules/${rule.id}`, { description: 'B' }),
      acct.patch(`/rules/${rule.id}`, { delay: { value: 3, unit: 'days' } }),
    ]);
    for (const r of results) expect([200, 409]).toContain(r.status);
    const versions = results.filter((r) => r.status === 200).map((r) => r.body.version);
    expect(new Set(versions).size).toBe(versions.length);
    const final = (await acct.get(`/rules/${rule.id}`)).body;
    expect(final.version).toBe(1 + versions.length);
    if (results[0].status === 200) expect(final.name).toBe('A');
    if (results[1].status === 200) expect(final.description).toBe('B');
    if (results[2].status === 200) expect(final.delay).toEqual({ value: 3, unit: 'days' });
  });

  test('GET /rules filters by eventName and enabled', async () => {
    const mine = await stack.account('Filters');
    const a = await create(mine, smsRule({ trigger: { eventName: 'job.created' } }));
    const b = await create(mine, smsRule({ trigger: { eventName: 'job.created' }, enabled: false }));
    const c = await create(mine, smsRule({ trigger: { eventName: 'invoice.paid' } }));
    const ids = async (q: string) => (await mine.get(`/rules${q}`)).body.items.map((r: any) => r.id);
    expect(await ids('')).toEqual([a.id, b.id, c.id]);
    expect(await ids('?eventName=job.created')).toEqual([a.id, b.id]);
    expect(await ids('?eventName=job.created&enabled=true')).toEqual([a.id]);
    expect(await ids('?enabled=false')).toEqual([b.id]);
    expect(await ids('?eventName=nothing.here')).toEqual([]);
    const bad = await mine.get('/rules?enabled=yes');
    expectError(bad, 400, 'validation_failed');
    expect(bad.body.error.details).toEqual([{ path: 'enabled', message: 'must be one of true, false' }]);
    expect((await mine.get('/rules?limit=0')).body.error.details).toEqual([
      { path: 'limit', message: 'must be at least 1' },
    ]);
    expect((await mine.get('/rules?limit=abc')).status).toBe(400);
    expect((await mine.get('/rules?colour=red')).body.error.details).toEqual([
      { path: 'colour', message: 'unknown field' },
    ]);
  });
});

describe('pagination', () => {
  test('limit/cursor pages never skip or repeat a rule while rules are inserted between pages', async () => {
    const mine = await stack.account('Pages');
    const initial: string[] = [];
    for (let i = 0; i < 5; i++) initial.push((await create(mine, smsRule({ name: `r${i}` }))).id);
    const seen: string[] = [];
    const inserted: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { status: number; body: any } = await mine.get(
        `/rules?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((r: any) => r.id));
      cursor = res.body.nextCursor;
      pages++;
      // Another writer adds rules while this client pages (only the first two times).
      if (pages <= 2) inserted.push((await create(mine, smsRule({ name: `late${pages}` }))).id);
    } while (cursor);
    expect(seen).toEqual([...initial, ...inserted]);
    expect(new Set(seen).size).toBe(seen.length);
  });

  test('a forged cursor is a 400, not a server error', async () => {
    for (const cursor of [
      'not-base64!',
      Buffer.from('abc').toString('base64url'),
      Buffer.from('9999999999999999999').toString('base64url'),
    ]) {
      const res = await acct.get(`/rules?cursor=${encodeURIComponent(cursor)}`);
      expectError(res, 400, 'invalid_cursor');
    }
  });
});

describe('validation: each rule names the field and says what is wrong', () => {
  const cases: [string, Record<string, unknown>, { path: string; message: string | RegExp }][] = [
    ['name missing', { name: undefined }, { path: 'name', message: 'required' }],
    ['name empty', { name: '   ' }, { path: 'name', message: 'must not be empty' }],
    ['name too long', { name: 'x'.repeat(201) }, { path: 'name', message: 'must be at most 200 characters' }],
    ['name not a string', { name: 42 }, { path: 'name', message: 'must be a string' }],
    ['enabled not a boolean', { enabled: 'yes' }, { path: 'enabled', message: 'must be a boolean' }],
    ['trigger missing', { trigger: undefined }, { path: 'trigger', message: 'required' }],
    [
      'eventName not dotted',
      { trigger: { eventName: 'job created!' } },
      { path: 'trigger.eventName', message: 'must be a dotted event name such as job.created' },
    ],
    [
      'bad cron',
      { trigger: { schedule: { cron: '61 * * * *' } } },
      { path: 'trigger.schedule.cron', message: /is not a valid cron expression/ },
    ],
    [
      'seconds cron (more often than once a minute)',
      { trigger: { schedule: { cron: '*/5 * * * * *' } } },
      { path: 'trigger.schedule.cron', message: /five-field cron/ },
    ],
    [
      'bad time zone',
      { trigger: { schedule: { cron: '0 9 * * MON', timezone: 'Mars/Olympus' } } },
      { path: 'trigger.schedule.timezone', message: 'must be an IANA time zone such as America/Chicago' },
    ],
    [
      'delay not an integer',
      { delay: { value: 1.5, unit: 'minutes' } },
      { path: 'delay.value', message: 'must be an integer' },
    ],
    [
      'delay negative',
      { delay: { value: -1, unit: 'minutes' } },
      { path: 'delay.value', message: 'must be at least 0' },
    ],
    [
      'delay unit unknown',
      { delay: { value: 1, unit: 'weeks' } },
      { path: 'delay.unit', message: 'must be one of seconds, minutes, hours, days' },
    ],
    [
      'delay over 365 days',
      { delay: { value: 8761, unit: 'hours' } },
      { path: 'delay.value', message: 'must be at most 365 days' },
    ],
    [
      'conditions not rooted at all/any/not',
      { conditions: [{ fact: 'job', operator: 'equal', value: 1 }] },
      { path: 'conditions', message: 'must be an object' },
    ],
    [
      'unknown operator',
      { conditions: { all: [{ fact: 'job', path: '$.a', operator: 'matches', value: 'x' }] } },
      { path: 'conditions.all[0].operator', message: /^must be one of equal, notEqual, / },
    ],
    [
      'bad fact name',
      { conditions: { all: [{ fact: 'job-x', operator: 'equal', value: 1 }] } },
      { path: 'conditions.all[0].fact', message: 'must be a fact name such as job or user' },
    ],
    [
      'recursive descent',
      { conditions: { any: [{ fact: 'job', path: '$..status', operator: 'equal', value: 'x' }] } },
      { path: 'conditions.any[0].path', message: /recursive descent are not allowed/ },
    ],
    [
      'filter expression',
      { conditions: { not: { fact: 'job', path: '$.items[?(@.price > 1)]', operator: 'equal', value: 1 } } },
      { path: 'conditions.not.path', message: /filters, scripts/ },
    ],
    [
      'path without $',
      { conditions: { all: [{ fact: 'job', path: 'status', operator: 'equal', value: 1 }] } },
      { path: 'conditions.all[0].path', message: 'path "status" on fact job: write "$.status"' },
    ],
    [
      'prototype path',
      { conditions: { all: [{ fact: 'job', path: '$.constructor.name', operator: 'equal', value: 1 }] } },
      { path: 'conditions.all[0].path', message: 'must not name __proto__, prototype or constructor' },
    ],
    [
      'numeric operator with a string',
      { conditions: { all: [{ fact: 'job', path: '$.total', operator: 'greaterThan', value: '2000' }] } },
      { path: 'conditions.all[0].value', message: 'operator greaterThan needs a number' },
    ],
    [
      'in without an array',
      { conditions: { all: [{ fact: 'job', path: '$.s', operator: 'in', value: 'a' }] } },
      { path: 'conditions.all[0].value', message: 'operator in needs an array' },
    ],
    [
      'value of an unusable type',
      { conditions: { all: [{ fact: 'job', path: '$.s', operator: 'equal', value: { fact: 'x' } }] } },
      { path: 'conditions.all[0].value', message: 'must be a string, a number, a boolean, null or an array' },
    ],
    [
      'conditions nested too deep',
      {
        conditions: {
          all: [
            { any: [{ all: [{ any: [{ all: [{ not: { fact: 'a', operator: 'equal', value: 1 } }] }] }] }] },
          ],
        },
      },
      { path: 'conditions', message: 'nesting deeper than 5 levels' },
    ],
    ['no actions', { actions: [] }, { path: 'actions', message: 'must have at least one item' }],
    [
      'eleven actions',
      {
        actions: Array.from({ length: 11 }, () => ({
          type: 'sms',
          params: { recipient: '+15551234567', message: 'x' },
        })),
      },
      { path: 'actions', message: 'must have at most 10 items' },
    ],
    [
      'unknown action type',
      { actions: [{ type: 'fax', params: {} }] },
      { path: 'actions[0].type', message: 'must be one of sms, email, webhook' },
    ],
    [
      'recipient missing',
      { actions: [{ type: 'sms', params: { message: 'hi' } }] },
      { path: 'actions[0].params.recipient', message: 'required' },
    ],
    [
      'phone not E.164',
      { actions: [{ type: 'sms', params: { recipient: '555-1234', message: 'hi' } }] },
      { path: 'actions[0].params.recipient', message: 'must be an E.164 phone number such as +15551234567' },
    ],
    [
      'email invalid',
      { actions: [{ type: 'email', params: { recipient: 'not an email', subject: 's', text: 't' } }] },
      { path: 'actions[0].params.recipient', message: 'must be a valid email address' },
    ],
    [
      'recipient source unknown',
      { actions: [{ type: 'sms', params: { recipient: { source: 'database' }, message: 'x' } }] },
      { path: 'actions[0].params.recipient.source', message: 'must be one of fact, user' },
    ],
    [
      'user recipient field unknown',
      { actions: [{ type: 'sms', params: { recipient: { source: 'user', field: 'fax' }, message: 'x' } }] },
      { path: 'actions[0].params.recipient.field', message: 'must be one of phone, email' },
    ],
    [
      'fact recipient with a filter path',
      {
        actions: [
          {
            type: 'sms',
            params: { recipient: { source: 'fact', fact: 'job', path: '$..phone' }, message: 'x' },
          },
        ],
      },
      { path: 'actions[0].params.recipient.path', message: /recursive descent/ },
    ],
    [
      'sms message empty',
      { actions: [{ type: 'sms', params: { recipient: '+15551234567', message: '' } }] },
      { path: 'actions[0].params.message', message: 'must not be empty' },
    ],
    [
      'template does not parse',
      { actions: [{ type: 'sms', params: { recipient: '+15551234567', message: 'Hi {{job.name' } }] },
      { path: 'actions[0].params.message', message: /^template does not parse: unbalanced/ },
    ],
    [
      'template with an expression',
      {
        actions: [
          { type: 'sms', params: { recipient: '+15551234567', message: 'Hi {{ job.name.toUpperCase() }}' } },
        ],
      },
      { path: 'actions[0].params.message', message: /is not a value reference/ },
    ],
    [
      'email without subject or body',
      { actions: [{ type: 'email', params: { recipient: 'a@b.co' } }] },
      { path: 'actions[0].params.subject', message: 'required unless templateId is given' },
    ],
    [
      'email templateId not a slug',
      { actions: [{ type: 'email', params: { recipient: 'a@b.co', templateId: 'Bad Slug' } }] },
      { path: 'actions[0].params.templateId', message: /must be a slug/ },
    ],
    [
      'unknown templateId',
      { actions: [{ type: 'email', params: { recipient: 'a@b.co', templateId: 'nope' } }] },
      { path: 'actions[0].params.templateId', message: 'no template "nope" in this account' },
    ],
    [
      'webhook URL not http(s)',
      { actions: [{ type: 'webhook', params: { url: 'file:///etc/passwd' } }] },
      { path: 'actions[0].params.url', message: 'must be an http(s) URL' },
    ],
    [
      'webhook to loopback',
      { actions: [{ type: 'webhook', params: { url: 'http://localhost:8080/x' } }] },
      { path: 'actions[0].params.url', message: /is internal/ },
    ],
    [
      'webhook to a private address',
      { actions: [{ type: 'webhook', params: { url: 'http://10.1.2.3/x' } }] },
      { path: 'actions[0].params.url', message: /loopback, private, link-local/ },
    ],
    [
      'webhook to the metadata address',
      { actions: [{ type: 'webhook', params: { url: 'http://169.254.169.254/latest/meta-data' } }] },
      { path: 'actions[0].params.url', message: /loopback, private, link-local/ },
    ],
    [
      'webhook to IPv6 loopback',
      { actions: [{ type: 'webhook', params: { url: 'http://[::1]:9000/' } }] },
      { path: 'actions[0].params.url', message: /loopback, private, link-local/ },
    ],
    [
      'webhook to the unspecified address',
      { actions: [{ type: 'webhook', params: { url: 'http://0.0.0.0/' } }] },
      { path: 'actions[0].params.url', message: /loopback, private, link-local/ },
    ],
    [
      'webhook payload template',
      {
        actions: [
          { type: 'webhook', params: { url: 'https://example.com/h', payload: { a: ['{{ 1 + 1 }}'] } } },
        ],
      },
      { path: 'actions[0].params.payload.a[0]', message: /is not a value reference/ },
    ],
    [
      'webhook method',
      { actions: [{ type: 'webhook', params: { url: 'https://example.com/h', method: 'DELETE' } }] },
      { path: 'actions[0].params.method', message: 'must be one of POST, PUT, PATCH' },
    ],
    ['unknown field', { priority: 1 }, { path: 'priority', message: 'unknown field' }],
  ];

  test.each(cases)('%s', async (_label, overrides, expected) => {
    const body: Record<string, unknown> = { ...smsRule(), ...overrides };
    for (const [k, v] of Object.entries(overrides)) if (v === undefined) delete body[k];
    const res = await acct.post('/rules', body);
    expectError(res, 400, 'validation_failed');
    const message = (m: string | RegExp) => (typeof m === 'string' ? m : expect.stringMatching(m));
    expect(res.body.error.details).toContainEqual({
      path: expected.path,
      message: message(expected.message),
    });
    expect(res.body.error.message).toContain(expected.path);
    // PUT validates the same way.
    const rule = (await acct.get('/rules?limit=1')).body.items[0];
    if (rule) {
      const put = await acct.put(`/rules/${rule.id}`, body);
      expect(put.status).toBe(400);
      expect(put.body.error.details).toContainEqual({
        path: expected.path,
        message: message(expected.message),
      });
    }
  });

  test('hosts in WEBHOOK_ALLOWED_HOSTS may be private (the stack allows 127.0.0.1)', async () => {
    const rule = await create(
      acct,
      smsRule({ actions: [{ type: 'webhook', params: { url: `${receiver.url}/x` } }] }),
    );
    expect(rule.actions[0].params.url).toBe(`${receiver.url}/x`);
  });
});

describe('the dry run', () => {
  test('a matching event: every condition with its fact value, the rendered actions, nothing sent', async () => {
    const hook = `${receiver.url}/dry-${Date.now()}`;
    const rule = await create(
      acct,
      smsRule({
        actions: [
          {
            type: 'sms',
            params: {
              recipient: { source: 'fact', fact: 'job', path: '$.assignedTechnician.phone' },
              message: 'Hi {{job.assignedTechnician.name}}, job #{{job.number}} is done',
            },
          },
          {
            type: 'webhook',
            params: { url: hook, payload: { n: '{{job.number}}', total: '{{job.total}}' } },
          },
        ],
        conditions: {
          all: [
            { fact: 'job', path: '$.status', operator: 'equal', value: 'Done' },
            { fact: 'job', path: '$.total', operator: 'greaterThan', value: 100 },
          ],
        },
      }),
    );
    const event = {
      name: 'job.status.changed',
      payload: {
        job: {
          number: 'J-1',
          status: 'Done',
          total: 250,
          assignedTechnician: { name: 'Jane', phone: '+15557654321' },
        },
      },
    };
    const res = await acct.post(`/rules/${rule.id}/test`, { event });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      matched: true,
      conditions: [
        { fact: 'job', path: '$.status', operator: 'equal', value: 'Done', factValue: 'Done', result: true },
        { fact: 'job', path: '$.total', operator: 'greaterThan', value: 100, factValue: 250, result: true },
      ],
      actions: [
        { index: 0, type: 'sms', to: '+15557654321', body: 'Hi Jane, job #J-1 is done' },
        { index: 1, type: 'webhook', url: hook, method: 'POST', payload: { n: 'J-1', total: 250 } },
      ],
      userFound: null,
      warnings: [noCatalogue()],
    });
    // Nothing was sent and nothing was started.
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.received.filter((r) => hook.endsWith(r.path))).toEqual([]);
    expect(
      await stack.db.query('SELECT count(*)::int AS n FROM outbox_messages WHERE rule_id = $1', [rule.id]),
    ).toEqual([{ n: 0 }]);
    const runs = [];
    for await (const w of stack.temporal.workflow.list({ query: `RuleId='${rule.id}'` })) runs.push(w);
    expect(runs).toEqual([]);
  });

  test('a non-matching event shows the fact value that failed', async () => {
    const rule = await create(acct, seedSimple);
    const res = await acct.post(`/rules/${rule.id}/test`, {
      event: { name: 'job.status.changed', payload: { job: { status: 'Scheduled', number: 'J-2' } } },
    });
    expect(res.status).toBe(200);
    expect(res.body.matched).toBe(false);
    expect(res.body.conditions[0]).toEqual({
      fact: 'job',
      path: '$.status',
      operator: 'equal',
      value: 'Done',
      factValue: 'Scheduled',
      result: false,
    });
    // The recipient path is missing: the action says why it cannot be rendered.
    expect(res.body.actions).toEqual([{ index: 0, type: 'sms', error: 'recipient is empty for this event' }]);
  });

  test('a fact that is not an object never matches a path into it (the same as templates read it)', async () => {
    const rule = await create(acct, smsRule());
    const res = await acct.post(`/rules/${rule.id}/test`, {
      event: { name: 'job.status.changed', payload: { job: 'Done' } },
    });
    expect(res.body.matched).toBe(false);
    expect(res.body.conditions[0]).toMatchObject({ factValue: null, result: false });
  });

  test('the user fact: conditions, templates and the user as recipient', async () => {
    const user = (
      await acct.post('/users', {
        externalId: `crm-${Date.now()}`,
        name: 'Jane Doe',
        phone: '+15550001111',
        attributes: { tier: 'gold' },
      })
    ).body;
    const rule = await create(
      acct,
      smsRule({
        conditions: {
          all: [{ fact: 'user', path: '$.attributes.tier', operator: 'in', value: ['gold', 'platinum'] }],
        },
        actions: [
          {
            type: 'sms',
            params: { recipient: { source: 'user', field: 'phone' }, message: 'Hi {{user.name}}' },
          },
        ],
      }),
    );
    const res = await acct.post(`/rules/${rule.id}/test`, {
      event: { name: 'job.status.changed', userId: user.externalId, payload: {} },
    });
    expect(res.body).toMatchObject({
      matched: true,
      userFound: true,
      conditions: [{ factValue: 'gold', result: true }],
      actions: [{ type: 'sms', to: '+15550001111', body: 'Hi Jane Doe' }],
    });
    // Another account's user is not found by id or externalId.
    const foreign = await other.post('/rules/test', {
      rule: smsRule({
        conditions: { all: [{ fact: 'user', path: '$.name', operator: 'notEqual', value: null }] },
      }),
      event: { name: 'job.status.changed', userId: user.id, payload: {} },
    });
    expect(foreign.body).toMatchObject({ matched: false, userFound: false });
    expect(foreign.body.warnings).toEqual([
      {
        code: 'user_not_found',
        path: 'event.userId',
        message: `no user "${user.id}" in this account: the user fact is null`,
      },
      noCatalogue(),
      {
        code: 'empty_placeholder',
        path: 'actions[0].params.message',
        message: '{{job.number}} rendered empty for this event',
      },
    ]);
  });

  test('POST /rules/test dry-runs an unsaved rule, as {rule, event} or with the rule at the top level', async () => {
    const event = { name: 'job.status.changed', payload: { job: { status: 'Done', number: 'J-3' } } };
    const nested = await acct.post('/rules/test', { rule: smsRule(), event });
    expect(nested.status).toBe(200);
    expect(nested.body).toMatchObject({ matched: true, actions: [{ body: 'Job J-3 done' }] });
    expect(nested.body.warnings).toEqual([noCatalogue()]);
    const flat = await acct.post('/rules/test', { ...smsRule(), event });
    expect(flat.body).toEqual(nested.body);
    const before = (
      await stack.db.query('SELECT count(*)::int AS n FROM rules WHERE account_id = $1', [acct.id])
    )[0].n;
    const invalid = await acct.post('/rules/test', { rule: smsRule({ actions: [] }), event });
    expectError(invalid, 400, 'validation_failed');
    expect(invalid.body.error.details).toEqual([
      { path: 'rule.actions', message: 'must have at least one item' },
    ]);
    const noEvent = await acct.post('/rules/test', { rule: smsRule() });
    expect(noEvent.body.error.details).toEqual([{ path: 'event', message: 'required' }]);
    const otherName = await acct.post('/rules/test', {
      rule: smsRule({ enabled: false }),
      event: { ...event, name: 'job.created' },
    });
    expect(otherName.body.warnings).toEqual([
      { code: 'rule_disabled', path: 'enabled', message: 'the rule is disabled: real events do not run it' },
      {
        code: 'other_event',
        path: 'trigger.eventName',
        message: 'the rule triggers on "job.status.changed", not on "job.created"',
      },
      noCatalogue(),
    ]);
    const after = (
      await stack.db.query('SELECT count(*)::int AS n FROM rules WHERE account_id = $1', [acct.id])
    )[0].n;
    expect(after).toBe(before);
  });

  test('the dry run validates its event', async () => {
    const rule = await create(acct, smsRule());
    const res = await acct.post(`/rules/${rule.id}/test`, { event: { name: 'bad name', payload: [] } });
    expectError(res, 400, 'validation_failed');
    expect(res.body.error.details).toEqual([
      { path: 'event.name', message: 'must be a dotted event name such as job.created' },
      { path: 'event.payload', message: 'must be an object' },
    ]);
  });
});

describe('isolation', () => {
  test("another account's rule is a 404 for read, replace, patch, delete, test and run-now", async () => {
    const { warnings: _w, ...rule } = await create(acct, smsRule());
    const attempts = [
      other.get(`/rules/${rule.id}`),
      other.put(`/rules/${rule.id}`, smsRule()),
      other.put(`/rules/${rule.id}`, { not: 'even valid' }),
      other.patch(`/rules/${rule.id}`, { enabled: false }),
      other.delete(`/rules/${rule.id}`),
      other.post(`/rules/${rule.id}/test`, { event: { name: 'job.status.changed', payload: {} } }),
      other.post(`/rules/${rule.id}/run-now`),
    ];
    for (const res of await Promise.all(attempts)) {
      expectError(res, 404, 'not_found');
      expect(JSON.stringify(res.body)).not.toContain(rule.name);
    }
    expect((await other.get('/rules')).body.items.map((r: any) => r.id)).not.toContain(rule.id);
    const still = await acct.get(`/rules/${rule.id}`);
    expect(still.body).toEqual(rule);
  });

  test('a rule cannot use another account\u2019s template', async () => {
    const res = await other.post(
      '/rules',
      smsRule({ actions: [{ type: 'email', params: { recipient: 'a@b.co', templateId: TEMPLATE_ID } }] }),
    );
    expect(res.body.error.details).toEqual([
      { path: 'actions[0].params.templateId', message: `no template "${TEMPLATE_ID}" in this account` },
    ]);
  });

  test('without a valid key every rules route is 401', async () => {
    for (const res of await Promise.all([
      stack.anonymous.get('/rules'),
      stack.anonymous.post('/rules', smsRule()),
      stack.anonymous.post('/rules/test', {}),
    ])) {
      expectError(res, 401, 'unauthorized');
    }
  });
});

describe('scheduled rules reach their Temporal Schedule', () => {
  test('create, pause, run-now and delete a scheduled rule', async () => {
    const rule = await create(
      acct,
      smsRule({ trigger: { schedule: { cron: '0 9 * * MON', timezone: 'America/Chicago' } } }),
    );
    expect(rule.trigger).toEqual({ schedule: { cron: '0 9 * * MON', timezone: 'America/Chicago' } });
    const handle = stack.temporal.schedule.getHandle(`schedule-${rule.id}`);
    const described = await handle.describe();
    expect(described.state.paused).toBe(false);
    expect(described.spec.timezone).toBe('America/Chicago');

    expect((await acct.patch(`/rules/${rule.id}`, { enabled: false })).status).toBe(200);
    expect((await handle.describe()).state.paused).toBe(true);
    expectError(await acct.post(`/rules/${rule.id}/run-now`), 409, 'rule_disabled');
    expect((await acct.patch(`/rules/${rule.id}`, { enabled: true })).status).toBe(200);
    const now = await acct.post(`/rules/${rule.id}/run-now`);
    expect(now.status).toBe(202);
    expect(now.body).toEqual({ ruleId: rule.id, scheduleId: `schedule-${rule.id}` });

    expect((await acct.delete(`/rules/${rule.id}`)).status).toBe(204);
    await expect(handle.describe()).rejects.toThrow();
  });

  test('every cron the validation accepts, Temporal accepts; the rest are 400s, never 500s', async () => {
    for (const cron of [
      '*/5 * * * *',
      '0 9 * JAN-MAR MON-FRI',
      '1-5/2 0 1,15 * 0',
      '0 9 * * MON#2',
      '0 0 29 2 *',
    ]) {
      const res = await acct.post(
        '/rules',
        smsRule({ trigger: { schedule: { cron, timezone: 'Europe/London' } } }),
      );
      expect([cron, res.status]).toEqual([cron, 201]);
      expect((await acct.delete(`/rules/${res.body.id}`)).status).toBe(204);
    }
    for (const cron of ['0 9 L * *', '0 9 ? * MON', '0 9 * * 1L', 'H 9 * * *', '0 9 31 2 *', '@daily']) {
      const res = await acct.post('/rules', smsRule({ trigger: { schedule: { cron } } }));
      expect([cron, res.status]).toEqual([cron, 400]);
      expect(res.body.error.details[0].path).toBe('trigger.schedule.cron');
    }
  });

  test('run-now on an event rule is a 409', async () => {
    const rule = await create(acct, smsRule());
    expectError(await acct.post(`/rules/${rule.id}/run-now`), 409, 'not_scheduled');
  });
});

describe('never a 500, whatever the input', () => {
  // Bodies go over the wire as raw JSON text, so they can be nested deeper than JSON.stringify can go.
  const deep = `{"name":"d","trigger":{"eventName":"a.b"},"actions":[],"conditions":${'{"all":['.repeat(100_000)}{}${']}'.repeat(100_000)}}`;
  const hostile: unknown[] = [
    null,
    [],
    [smsRule()],
    'a string',
    42,
    true,
    {},
    { ...smsRule(), name: ['array'] },
    { ...smsRule(), name: { $gt: '' } },
    { ...smsRule(), trigger: 'job.created' },
    { ...smsRule(), trigger: { eventName: 'a'.repeat(100_000) } },
    { ...smsRule(), delay: { value: 1e308, unit: 'days' } },
    { ...smsRule(), delay: { value: Number.MAX_SAFE_INTEGER + 2, unit: 'seconds' } },
    { ...smsRule(), delay: [] },
    { ...smsRule(), conditions: { all: 'x' } },
    { ...smsRule(), conditions: { all: [null, 1, 'x', []] } },
    { ...smsRule(), conditions: { all: [], any: [] } },
    deep,
    '['.repeat(200_000) + ']'.repeat(200_000),
    { ...smsRule(), actions: {} },
    { ...smsRule(), actions: [null] },
    { ...smsRule(), actions: [{ type: 'sms', params: [] }] },
    { ...smsRule(), actions: [{ type: 'webhook', params: { url: 'http://' } }] },
    { ...smsRule(), actions: [{ type: 'webhook', params: { url: 'https://exämple.com/ü?q=日本' } }] },
    { ...smsRule(), name: '名前 🚀 \u202e' },
    { ...smsRule(), name: 'nul\u0000byte' },
    { ...smsRule(), name: 'lone \ud800 surrogate' },
    { ...smsRule(), description: 'x'.repeat(300_000) },
    JSON.parse('{"__proto__": {"admin": true}, "name": "p"}'),
    JSON.parse(
      '{"name":"p","trigger":{"eventName":"a.b"},"actions":[{"type":"webhook","params":{"url":"https://example.com","payload":{"__proto__":{"x":1}}}}]}',
    ),
    { ...smsRule(), conditions: { all: [{ fact: 'constructor', operator: 'equal', value: 1 }] } },
    {
      ...smsRule(),
      actions: [{ type: 'sms', params: { recipient: '+15551234567', message: '{{'.repeat(50_000) } }],
    },
    {
      ...smsRule(),
      actions: [{ type: 'sms', params: { recipient: '+15551234567', message: `{{${' '.repeat(1500)}` } }],
    },
    {
      ...smsRule(),
      actions: [
        {
          type: 'sms',
          params: { recipient: '+15551234567', message: `{{job${'.a'.repeat(40)}}}` },
        },
      ],
    },
  ];

  const raw = (b: unknown) => (typeof b === 'string' && /^[[{]/.test(b) ? b : JSON.stringify(b));
  test.each(hostile.map((b, i) => [i, raw(b)]))('hostile body #%i', async (_i, body) => {
    const rule = (await acct.get('/rules?limit=1')).body.items[0];
    const started = Date.now();
    const responses = await Promise.all([
      acct.post('/rules', body),
      acct.put(`/rules/${rule.id}`, body),
      acct.patch(`/rules/${rule.id}`, body),
      acct.post('/rules/test', body),
      acct.post('/rules/test', `{"rule": ${body}, "event": {"name": "a.b", "payload": {}}}`),
      acct.post(`/rules/${rule.id}/test`, body),
      acct.post(`/rules/${rule.id}/test`, `{"event": {"name": "a.b", "payload": ${body}}}`),
      acct.post('/users', body),
      acct.put('/templates/hostile', body),
      acct.post('/events', `{"name": "a.b", "payload": {"x": ${body}}}`),
    ]);
    for (const res of responses) {
      expect(res.status).toBeLessThan(500);
      if (res.status >= 400)
        expect(res.body.error).toEqual(expect.objectContaining({ code: expect.any(String) }));
    }
    // Catches a super-linear validator (an 8 KB body once took minutes), not speed: that is the bench's.
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  test('odd ids and raw bodies', async () => {
    for (const path of [
      '/rules/%00',
      '/rules/..%2f..%2fetc',
      `/rules/${'x'.repeat(5000)}`,
      '/rules/%E0%A4%A',
      '/rules/rule_x%27%20OR%201=1--',
    ]) {
      const res = await acct.get(path);
      expect([400, 404]).toContain(res.status);
    }
    const raw = await acct.request('POST', '/rules', '{"name": "x", "name": 1', {
      'Content-Type': 'application/json',
    });
    expectError(raw, 400, 'invalid_json');
    const text = await acct.request('POST', '/rules', 'name=x', { 'Content-Type': 'text/plain' });
    expect(text.status).toBe(415);
  });
});
