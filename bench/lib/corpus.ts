/**
 * A corpus of bad requests over every route of the API: wrong types, missing fields, huge and deeply
 * nested bodies, unicode and control characters, injection strings, wrong content types and encodings,
 * other accounts' ids. Every one must be answered 4xx with `{"error":{"code"}}`; none may be 5xx.
 */
import { gzipSync } from 'node:zlib';
import { now } from './util';

export interface CorpusIds {
  apiKey: string;
  accountId: string;
  ruleId: string;
  userId: string;
  templateId: string;
  eventWorkflowId: string;
  runWorkflowId: string;
}

export interface CorpusContext {
  adminToken: string;
  a: CorpusIds;
  b: CorpusIds;
}

export interface Case {
  name: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  /**
   * A filter whose odd value may legitimately match nothing: a 2xx is fine as long as the answer holds
   * none of these strings (the other account's ids).
   */
  safe2xxUnless?: string[];
}

export interface Outcome {
  case: Case;
  status: number;
  hasCode: boolean;
  ok: boolean;
  ms: number;
  snippet: string;
}

const INJECTIONS = [
  "' OR '1'='1",
  "'; DROP TABLE rules; --",
  '"; SELECT pg_sleep(5); --',
  '${process.exit(1)}',
  '{{constructor.constructor("return process")()}}',
  '__proto__',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '$..*',
  '$[?(@.x==1)]',
  '%s%s%s%n',
];

const UNICODE = [
  'nul\u0000byte',
  'bell\u0007 and \u001b[31mescape',
  'rtl \u202e override',
  'lone \ud800 surrogate',
  'emoji 💩🔥',
  'zero\u200bwidth',
  'é'.repeat(300),
  '\uffff\ufffe',
];

/** `depth` levels of nested arrays, as JSON text (too deep for any recursive reader). */
const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const deepObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

const validRule = (url = 'https://example.com/hook') => ({
  name: 'corpus',
  trigger: { eventName: 'corpus.event' },
  delay: { value: 1, unit: 'minutes' },
  conditions: { all: [] },
  actions: [{ type: 'webhook', params: { url, payload: { a: '{{job.number}}' } } }],
});

export function buildCorpus(ctx: CorpusContext): Case[] {
  const { a, b } = ctx;
  const cases: Case[] = [];
  const json = (body: unknown) => JSON.stringify(body);
  const add = (
    name: string,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    token: string | null = a.apiKey,
  ) => {
    const h: Record<string, string> = { ...(token && { authorization: `Bearer ${token}` }) };
    let raw: string | Buffer | undefined;
    if (body !== undefined) {
      raw = typeof body === 'string' || Buffer.isBuffer(body) ? body : json(body);
      h['content-type'] = 'application/json';
    }
    cases.push({ name, method, path, headers: { ...h, ...headers }, body: raw });
  };

  // Every route and method, with a path parameter where it has one.
  const idRoutes: [string, string][] = [
    ['GET', '/rules/:id'],
    ['PUT', '/rules/:id'],
    ['PATCH', '/rules/:id'],
    ['DELETE', '/rules/:id'],
    ['POST', '/rules/:id/test'],
    ['POST', '/rules/:id/run-now'],
    ['GET', '/users/:id'],
    ['PUT', '/users/:id'],
    ['PATCH', '/users/:id'],
    ['DELETE', '/users/:id'],
    ['GET', '/templates/:id'],
    ['PUT', '/templates/:id'],
    ['DELETE', '/templates/:id'],
    ['GET', '/executions/:id'],
    ['POST', '/executions/:id/cancel'],
    ['POST', '/executions/:id/retry'],
  ];
  const plainRoutes: [string, string][] = [
    ['POST', '/events'],
    ['POST', '/events/batch'],
    ['POST', '/rules'],
    ['GET', '/rules'],
    ['POST', '/rules/test'],
    ['POST', '/users'],
    ['GET', '/users'],
    ['GET', '/templates'],
    ['GET', '/executions'],
    ['GET', '/outbox'],
  ];
  const fill = (p: string, id: string) => p.replace(':id', id);
  const own = (p: string) =>
    p.startsWith('/rules')
      ? a.ruleId
      : p.startsWith('/users')
        ? a.userId
        : p.startsWith('/templates')
          ? a.templateId
          : a.runWorkflowId;
  const other = (p: string) =>
    p.startsWith('/rules')
      ? b.ruleId
      : p.startsWith('/users')
        ? b.userId
        : p.startsWith('/templates')
          ? b.templateId
          : b.runWorkflowId;
  const hasBody = (m: string) => m === 'POST' || m === 'PUT' || m === 'PATCH';
  const allRoutes: [string, string][] = [
    ...plainRoutes,
    ...idRoutes.map(([m, p]) => [m, fill(p, own(p))] as [string, string]),
  ];

  // 1. Authentication, on every route.
  for (const [m, p] of allRoutes) {
    add('no Authorization', m, p, hasBody(m) ? {} : undefined, {}, null);
    add('unknown API key', m, p, hasBody(m) ? {} : undefined, {}, 'crm_not_a_real_key');
    add('Basic auth', m, p, undefined, { authorization: 'Basic YWRtaW46YWRtaW4=' }, null);
    add('admin token as API key', m, p, undefined, {}, ctx.adminToken);
  }
  add('10 KB bearer', 'GET', '/rules', undefined, { authorization: `Bearer ${'k'.repeat(10_000)}` }, null);
  add('bearer with injection', 'GET', '/rules', undefined, { authorization: `Bearer ' OR 1=1 --` }, null);

  // 2. Other accounts' ids, and ids that do not exist, on every :id route.
  for (const [m, p] of idRoutes) {
    // PUT /templates/:id creates the slug in the caller's own account: not another account's object.
    if (!(m === 'PUT' && p.startsWith('/templates'))) {
      const body =
        m === 'PUT' && p.startsWith('/rules')
          ? validRule()
          : m === 'PUT'
            ? { name: 'x' }
            : m === 'PATCH'
              ? { name: 'stolen' }
              : p.includes('/test')
                ? { event: { name: 'corpus.event', payload: {} } }
                : undefined;
      add("other account's id", m, fill(p, other(p)), body);
      add(
        'id that does not exist',
        m,
        fill(
          p,
          p.startsWith('/templates')
            ? 'no-such-template'
            : p.startsWith('/executions')
              ? 'run-rule_nope-evt_nope'
              : 'rule_doesnotexist0',
        ),
        body,
      );
    }
    for (const bad of [
      '%00',
      '%F0%9F%92%A9',
      '..%2F..%2Fetc%2Fpasswd',
      encodeURIComponent("' OR '1'='1"),
      '%E0%A4%A',
      'x'.repeat(3000),
    ]) {
      if (m === 'PUT' && p.startsWith('/templates') && !bad.startsWith('%') && !bad.startsWith('..')) {
        add('template slug not a slug', m, fill(p, bad), { name: 'x', subject: 's', text: 't' });
        continue;
      }
      add(
        `weird id ${bad.slice(0, 12)}`,
        m,
        fill(p, bad),
        hasBody(m) ? (p.startsWith('/rules') && m === 'PUT' ? validRule() : { name: 'x' }) : undefined,
      );
    }
  }
  add("other account's event run", 'GET', `/executions/${b.eventWorkflowId}`);
  add("cancel other account's event run", 'POST', `/executions/${b.eventWorkflowId}/cancel`, {});

  // 3. Bodies that are not JSON objects, on every route that takes a body.
  for (const [m, p] of allRoutes.filter(([m]) => hasBody(m))) {
    add('invalid JSON', m, p, '{"name": ');
    add('JSON with trailing garbage', m, p, '{"name":"x"} trailing');
    add(
      'text/plain',
      m,
      p,
      undefined,
      { 'content-type': 'text/plain', authorization: `Bearer ${a.apiKey}` },
      null,
    );
    cases[cases.length - 1].body = json(validRule());
    add('form-urlencoded', m, p, undefined, { 'content-type': 'application/x-www-form-urlencoded' });
    cases[cases.length - 1].body = 'name=x&enabled=true';
    add('xml', m, p, undefined, { 'content-type': 'application/xml' });
    cases[cases.length - 1].body = '<rule><name>x</name></rule>';
    if (!p.includes('/cancel') && !p.includes('/retry') && !p.includes('/run-now')) {
      for (const v of ['null', '[]', '"a string"', '42', 'true']) add(`body ${v}`, m, p, v);
    }
  }

  // 4. Huge and deeply nested bodies.
  const bigString = 'x'.repeat(2 * 1024 * 1024);
  for (const [m, p] of [
    ['POST', '/events'],
    ['POST', '/rules'],
    ['POST', '/users'],
    ['PUT', `/templates/${a.templateId}`],
    ['POST', '/events/batch'],
  ] as const) {
    add('2 MB body', m, p, { name: 'x', payload: { blob: bigString } });
    add('deep arrays (100k)', m, p, `{"name":"x","payload":${deepArray(100_000)}}`);
    add('deep objects (5k)', m, p, `{"name":"x","payload":${deepObject(5000)}}`);
  }
  add(
    'event payload nested 100k deep',
    'POST',
    '/events',
    `{"name":"corpus.event","payload":{"job":${deepObject(100_000)}}}`,
  );
  add(
    'event payload nested 2,000 deep',
    'POST',
    '/events',
    `{"name":"corpus.event","payload":{"job":${deepObject(2000)}}}`,
  );
  add('event payload over 256 KB', 'POST', '/events', {
    name: 'corpus.event',
    payload: { blob: 'x'.repeat(300 * 1024) },
  });
  add('rule conditions nested 200 deep', 'POST', '/rules', {
    ...validRule(),
    conditions: JSON.parse('{"all":['.repeat(200) + ']}'.repeat(200)),
  });
  add('10,000 actions', 'POST', '/rules', {
    ...validRule(),
    actions: Array(10_000).fill(validRule().actions[0]),
  });
  add('gzip that is not gzip', 'POST', '/events', '{"name":"a.b","payload":{}}', {
    'content-encoding': 'gzip',
  });
  add(
    'gzip bomb-ish (2 MB inflated)',
    'POST',
    '/events',
    gzipSync(Buffer.from(json({ name: 'a.b', payload: { x: bigString } }))),
    { 'content-encoding': 'gzip' },
  );
  add('brotli', 'POST', '/events', '{"name":"a.b","payload":{}}', { 'content-encoding': 'br' });
  add('unknown charset', 'POST', '/events', '{"name":"a.b","payload":{}}', {
    'content-type': 'application/json; charset=klingon',
  });

  // 5. Events: wrong types, missing fields, bad ids and names.
  const ev = (name: string, body: unknown) => add(`event: ${name}`, 'POST', '/events', body);
  ev('empty object', {});
  ev('missing payload', { name: 'job.created' });
  ev('missing name', { payload: {} });
  ev('name number', { name: 42, payload: {} });
  ev('name with spaces', { name: 'job created', payload: {} });
  ev('name 500 chars', { name: 'a'.repeat(500), payload: {} });
  ev('payload array', { name: 'job.created', payload: [1, 2] });
  ev('payload string', { name: 'job.created', payload: 'x' });
  ev('id with spaces', { id: 'has spaces', name: 'job.created', payload: {} });
  ev('id with slash', { id: 'a/b', name: 'job.created', payload: {} });
  ev('id 200 chars', { id: 'i'.repeat(200), name: 'job.created', payload: {} });
  ev('id empty', { id: '', name: 'job.created', payload: {} });
  ev('id number', { id: 7, name: 'job.created', payload: {} });
  ev('occurredAt not a date', { name: 'job.created', occurredAt: 'yesterday', payload: {} });
  ev('userId number', { name: 'job.created', userId: 12, payload: {} });
  ev('unknown field accountId', { name: 'job.created', accountId: b.accountId, payload: {} });
  for (const s of [...INJECTIONS, ...UNICODE])
    ev(`name ${JSON.stringify(s).slice(0, 20)}`, { name: s, payload: {} });
  for (const s of UNICODE)
    ev(`id ${JSON.stringify(s).slice(0, 20)}`, { id: s, name: 'job.created', payload: {} });
  add('batch: events not array', 'POST', '/events/batch', { events: 'x' });
  add('batch: empty', 'POST', '/events/batch', { events: [] });
  add('batch: 101 events', 'POST', '/events/batch', {
    events: Array(101).fill({ name: 'a.b', payload: {} }),
  });
  add('batch: missing events', 'POST', '/events/batch', {});

  // 6. Rules: every field wrong in turn.
  const rule = (name: string, patch: Record<string, unknown>) =>
    add(`rule: ${name}`, 'POST', '/rules', { ...validRule(), ...patch });
  rule('name number', { name: 5 });
  rule('name empty', { name: '' });
  rule('name 5,000 chars', { name: 'n'.repeat(5000) });
  rule('enabled "yes"', { enabled: 'yes' });
  // An accountId in the body is ignored by design (the key decides): fine, if the rule is not B's.
  rule('accountId in body', { accountId: b.accountId });
  cases[cases.length - 1].safe2xxUnless = [b.accountId];
  rule('trigger missing', { trigger: undefined });
  rule('trigger both', { trigger: { eventName: 'a.b', schedule: { cron: '* * * * *' } } });
  rule('eventName with spaces', { trigger: { eventName: 'job created' } });
  rule('cron nonsense', { trigger: { schedule: { cron: 'every day', timezone: 'UTC' } } });
  rule('cron six fields', { trigger: { schedule: { cron: '0 0 0 * * *', timezone: 'UTC' } } });
  rule('timezone Mars', { trigger: { schedule: { cron: '0 9 * * *', timezone: 'Mars/Olympus_Mons' } } });
  rule('delay negative', { delay: { value: -1, unit: 'minutes' } });
  rule('delay fraction', { delay: { value: 1.5, unit: 'minutes' } });
  rule('delay weeks', { delay: { value: 1, unit: 'weeks' } });
  rule('delay 400 days', { delay: { value: 400, unit: 'days' } });
  rule('delay string', { delay: { value: '5', unit: 'minutes' } });
  rule('delay 1e308', { delay: { value: 1e308, unit: 'seconds' } });
  rule('conditions array', { conditions: [] });
  rule('unknown operator', {
    conditions: { all: [{ fact: 'job', path: '$.x', operator: 'matches', value: 1 }] },
  });
  rule('fact __proto__', {
    conditions: { all: [{ fact: '__proto__', path: '$.x', operator: 'equal', value: 1 }] },
  });
  rule('fact constructor', { conditions: { all: [{ fact: 'constructor', operator: 'equal', value: 1 }] } });
  for (const path of [
    '$..*',
    '$[?(@.price < 10)]',
    '$.a[(@.length-1)]',
    'job.total',
    '$.a.b.c.'.repeat(40),
    // `$["a"]` is a valid RFC 9535 name selector now; an unterminated one and a leading-zero index are not.
    '$["a',
    '$.items[01]',
    '$.__proto__.x',
  ])
    rule(`path ${path.slice(0, 20)}`, {
      conditions: { all: [{ fact: 'job', path, operator: 'equal', value: 1 }] },
    });
  rule('greaterThan a string', {
    conditions: { all: [{ fact: 'job', path: '$.x', operator: 'greaterThan', value: 'a' }] },
  });
  rule('in without array', { conditions: { all: [{ fact: 'job', path: '$.x', operator: 'in', value: 1 }] } });
  rule('condition value object', {
    conditions: { all: [{ fact: 'job', path: '$.x', operator: 'equal', value: { a: 1 } }] },
  });
  rule('no actions', { actions: [] });
  rule('11 actions', { actions: Array(11).fill(validRule().actions[0]) });
  rule('action type fax', { actions: [{ type: 'fax', params: {} }] });
  rule('action without params', { actions: [{ type: 'webhook' }] });
  for (const url of [
    'file:///etc/passwd',
    'ftp://example.com/x',
    'javascript:alert(1)',
    'http://169.254.169.254/latest/meta-data',
    'http://10.0.0.1/hook',
    'http://[::ffff:10.0.0.1]/',
    'http://0x7f000002/',
    'not a url',
    'http://' + 'a'.repeat(3000) + '.com/',
  ])
    rule(`webhook url ${url.slice(0, 24)}`, { actions: [{ type: 'webhook', params: { url, payload: {} } }] });
  rule('webhook method GET', {
    actions: [{ type: 'webhook', params: { url: 'https://example.com', method: 'GET', payload: {} } }],
  });
  rule('webhook payload array', {
    actions: [{ type: 'webhook', params: { url: 'https://example.com', payload: [] } }],
  });
  rule('webhook payload 100 KB', {
    actions: [
      { type: 'webhook', params: { url: 'https://example.com', payload: { x: 'y'.repeat(100_000) } } },
    ],
  });
  for (const t of [
    '{{',
    '{{job.number',
    '{{#each items}}x{{/each}}',
    '{{constructor.constructor("x")()}}',
    '{{ job..number }}',
    '{{job.number}',
  ])
    rule(`template ${t.slice(0, 16)}`, {
      actions: [{ type: 'sms', params: { recipient: '+15551234567', message: t } }],
    });
  rule('sms recipient not E.164', {
    actions: [{ type: 'sms', params: { recipient: '555-1234', message: 'x' } }],
  });
  rule('sms recipient ref bad field', {
    actions: [{ type: 'sms', params: { recipient: { source: 'user', field: 'address' }, message: 'x' } }],
  });
  rule('sms empty message', {
    actions: [{ type: 'sms', params: { recipient: '+15551234567', message: '' } }],
  });
  rule('email bad recipient', {
    actions: [{ type: 'email', params: { recipient: 'not-an-email', subject: 's', text: 't' } }],
  });
  rule('email unknown template', {
    actions: [{ type: 'email', params: { recipient: 'a@example.com', templateId: 'no-such-template' } }],
  });
  rule("email other account's template", {
    actions: [{ type: 'email', params: { recipient: 'a@example.com', templateId: 'b-only-template-x' } }],
  });
  rule('email no subject or template', {
    actions: [{ type: 'email', params: { recipient: 'a@example.com', text: 't' } }],
  });
  for (const s of INJECTIONS) rule(`eventName ${s.slice(0, 16)}`, { trigger: { eventName: s } });
  add('PUT rule: invalid body', 'PUT', `/rules/${a.ruleId}`, {
    ...validRule(),
    delay: { value: -5, unit: 'minutes' },
  });
  add('PUT rule: missing actions', 'PUT', `/rules/${a.ruleId}`, { ...validRule(), actions: undefined });
  add('PATCH rule: enabled string', 'PATCH', `/rules/${a.ruleId}`, { enabled: 'false' });
  add('PATCH rule: version', 'PATCH', `/rules/${a.ruleId}`, { delay: { value: 1, unit: 'fortnights' } });
  add('rule test: no event', 'POST', `/rules/${a.ruleId}/test`, {});
  add('rule test: event payload array', 'POST', `/rules/${a.ruleId}/test`, {
    event: { name: 'corpus.event', payload: [] },
  });
  add('rules/test: no rule', 'POST', '/rules/test', { event: { name: 'corpus.event', payload: {} } });
  add('run-now on an event rule', 'POST', `/rules/${a.ruleId}/run-now`, {});

  // 7. Users and templates.
  const user = (name: string, body: Record<string, unknown>) => add(`user: ${name}`, 'POST', '/users', body);
  user('email invalid', { externalId: 'x1', email: 'nope' });
  user('phone invalid', { externalId: 'x2', phone: '12345' });
  user('timezone invalid', { externalId: 'x3', timezone: 'Not/AZone' });
  user('attributes array', { externalId: 'x4', attributes: [1] });
  user('attributes 20 KB', { externalId: 'x5', attributes: { x: 'y'.repeat(20_000) } });
  user('externalId empty', { externalId: '' });
  user('externalId number', { externalId: 5 });
  user('duplicate externalId', { externalId: 'u-1' });
  user('unknown field', { externalId: 'x6', role: 'admin' });
  user('name object', { externalId: 'x7', name: { first: 'a' } });
  add('PATCH user: bad email', 'PATCH', `/users/${a.userId}`, { email: 'x@' });
  add('PUT user: phone number', 'PUT', `/users/${a.userId}`, { phone: 5551234567 });
  const tpl = (name: string, id: string, body: unknown) =>
    add(`template: ${name}`, 'PUT', `/templates/${id}`, body);
  tpl('uppercase slug', 'Bad-Slug', { name: 'x', subject: 's', text: 't' });
  tpl('slug with dot', 'a.b', { name: 'x', subject: 's', text: 't' });
  tpl('no subject', 'ok-slug', { name: 'x', text: 't' });
  tpl('no text or html', 'ok-slug', { name: 'x', subject: 's' });
  tpl('subject template error', 'ok-slug', { name: 'x', subject: '{{', text: 't' });
  tpl('html 300 KB', 'ok-slug', { name: 'x', subject: 's', html: 'h'.repeat(300_000) });
  tpl('name number', 'ok-slug', { name: 1, subject: 's', text: 't' });

  // 8. Query strings.
  for (const p of ['/rules', '/users', '/templates', '/executions', '/outbox']) {
    for (const q of [
      'limit=-1',
      'limit=abc',
      'limit=1e9',
      'limit=0',
      'cursor=garbage',
      'cursor=' + 'A'.repeat(5000),
      `cursor=${Buffer.from('{"seq":"1; DROP TABLE rules"}').toString('base64url')}`,
      'limit=1&limit=2',
    ])
      add(`query ${q.slice(0, 20)}`, 'GET', `${p}?${q}`);
  }
  add('rules ?enabled=maybe', 'GET', '/rules?enabled=maybe');
  add('executions ?status=bogus', 'GET', '/executions?status=bogus');
  // Injections into filters: a 2xx is acceptable only if nothing of account B comes back.
  const leak = [b.accountId, b.ruleId, b.runWorkflowId, b.eventWorkflowId, b.userId];
  const filters: [string, string][] = [
    ['/rules', `eventName=${encodeURIComponent("' OR 1=1 --")}`],
    ['/executions', `ruleId=${encodeURIComponent("x' OR RuleId!='")}`],
    ['/executions', `eventName=${encodeURIComponent("a' OR AccountId!='x")}`],
    ['/executions', `eventId=${encodeURIComponent("x') OR (AccountId!='")}`],
    ['/executions', `ruleId=${b.ruleId}`],
    ['/outbox', `ruleId=${encodeURIComponent("' OR 1=1 --")}`],
  ];
  for (const [p, q] of filters) {
    add(`filter ${q.slice(0, 24)}`, 'GET', `${p}?${q}`);
    cases[cases.length - 1].safe2xxUnless = leak;
  }
  add('outbox ?channel=fax', 'GET', '/outbox?channel=fax');

  // 9. Accounts (admin) and unknown routes.
  const admin = ctx.adminToken;
  add('account: no name', 'POST', '/accounts', {}, {}, admin);
  add('account: name number', 'POST', '/accounts', { name: 1 }, {}, admin);
  add('account: name empty', 'POST', '/accounts', { name: '   ' }, {}, admin);
  add('account: name 10,000 chars', 'POST', '/accounts', { name: 'a'.repeat(10_000) }, {}, admin);
  add('account: extra field', 'POST', '/accounts', { name: 'x', apiKey: 'crm_mine' }, {}, admin);
  add('account: API key instead of admin', 'POST', '/accounts', { name: 'x' });
  add(
    'account: text/plain',
    'POST',
    '/accounts',
    undefined,
    { 'content-type': 'text/plain', authorization: `Bearer ${admin}` },
    null,
  );
  cases[cases.length - 1].body = 'name=x';
  for (const [m, p] of [
    ['GET', '/accounts'],
    ['DELETE', '/rules'],
    ['GET', '/nope'],
    ['POST', '/healthz'],
    ['PATCH', '/events'],
    ['GET', '/rules/a/b/c'],
    ['GET', '/%2e%2e/%2e%2e/etc/passwd'],
  ] as const)
    add(`no route ${m} ${p}`, m, p, hasBody(m) ? {} : undefined);
  return cases;
}

export async function runCorpus(apiUrl: string, cases: Case[], concurrency = 8): Promise<Outcome[]> {
  const out: Outcome[] = new Array(cases.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= cases.length) return;
        const c = cases[i];
        const t0 = now();
        let status = 0;
        let text = '';
        try {
          const res = await fetch(apiUrl + c.path, { method: c.method, headers: c.headers, body: c.body });
          status = res.status;
          text = await res.text();
        } catch (err) {
          text = `request failed: ${(err as Error).message}`;
        }
        let hasCode = false;
        try {
          const parsed = JSON.parse(text) as { error?: { code?: unknown } };
          hasCode = typeof parsed?.error?.code === 'string' && parsed.error.code.length > 0;
        } catch {
          /* not JSON */
        }
        const safe2xx =
          c.safe2xxUnless !== undefined &&
          status >= 200 &&
          status < 300 &&
          !c.safe2xxUnless.some((leak) => text.includes(leak));
        out[i] = {
          case: c,
          status,
          hasCode,
          ok: (status >= 400 && status < 500 && hasCode) || safe2xx,
          ms: now() - t0,
          snippet: text.slice(0, 160).replace(/\s+/g, ' '),
        };
      }
    }),
  );
  return out;
}
