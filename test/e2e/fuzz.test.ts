/**
 * Property-based fuzzing from GET /openapi.json (schemathesis, scripts/schemathesis.ts) against the
 * real stack: every operation gets the document's examples, boundary values of every schema keyword
 * (valid and not), random data and create → read → update → delete chains, as two accounts (each
 * probed for the other's objects) and the admin. The full-size run is drill 8 (`npm run drill`).
 *
 * Schemathesis is installed from PyPI here, in beforeAll, when .tools/ does not have it: without PyPI
 * the install throws and every test in this file fails, by design.
 */
import {
  describeFuzz,
  installSchemathesis,
  runSchemathesis,
  type FuzzSummary,
} from '../../scripts/schemathesis';
import { startStack, type AccountClient, type Stack } from '../helpers/stack';

let stack: Stack;
let a: AccountClient;
let b: AccountClient;

beforeAll(async () => {
  await installSchemathesis();
  // No worker: the fuzzer creates rules whose webhooks name hosts it made up, and events that match
  // them; nothing should be sent anywhere. The API (what is fuzzed) starts the workflows all the same.
  // Wrong keys are part of the fuzzing and must answer 401: the throttle (quota.test.ts) is off here.
  stack = await startStack({ AUTH_FAILURES_PER_MINUTE: '0' }, { worker: false });
  a = await stack.account('fuzz A');
  b = await stack.account('fuzz B');
}, 300_000);
afterAll(async () => {
  await stack?.stop();
});

/**
 * `GET /rules`-style labels of every operation in the document but GET /openapi.json, which
 * schemathesis leaves out as the document it was loaded from.
 */
async function documentedOperations(): Promise<string[]> {
  const doc = (await stack.anonymous.get('/openapi.json')).body as { paths: Record<string, object> };
  const methods = ['get', 'put', 'post', 'delete', 'patch'];
  return Object.entries(doc.paths)
    .filter(([p]) => p !== '/openapi.json')
    .flatMap(([p, item]) =>
      Object.keys(item)
        .filter((m) => methods.includes(m))
        .map((m) => `${m.toUpperCase()} ${p}`),
    )
    .sort();
}

test('schemathesis over /openapi.json: no 5xx, every answer as documented, the API healthy afterwards', async () => {
  const s: FuzzSummary = await runSchemathesis({
    baseUrl: stack.url,
    apiKey: a.apiKey,
    peerApiKey: b.apiKey,
    adminToken: stack.adminToken,
    maxExamples: 10,
    seed: 20261122,
    // A budget, not a speed check: 55+ operations take about 150 s on this machine.
    timeoutMs: 270_000,
  });
  console.log(describeFuzz(s).join('\n'));

  // On failure the received object shows what failed, with schemathesis' curl reproductions.
  expect({
    exitCode: s.exitCode,
    serverErrors: s.serverErrors,
    failures: s.failures,
    errors: s.errors,
    output: s.exitCode === 0 ? '' : s.outputTail,
  }).toEqual({ exitCode: 0, serverErrors: [], failures: [], errors: [], output: '' });
  expect(Object.keys(s.byStatus).filter((status) => !/^[1-4]\d\d$/.test(status))).toEqual([]);

  const operations = await documentedOperations();
  expect(operations.length).toBeGreaterThanOrEqual(30);
  // Every operation got requests, and some past the key (a run where all is 401 would pass the checks).
  expect(operations.filter((op) => !s.admitted[op])).toEqual([]);
  expect(s.requests).toBeGreaterThan(2000);
  for (const phase of ['examples', 'coverage', 'fuzzing', 'stateful'])
    expect(s.byPhase[phase]).toBeGreaterThan(0);

  expect((await stack.anonymous.get('/healthz')).status).toBe(200);
  expect((await stack.anonymous.get('/readyz')).status).toBe(200);
  expect((await a.get('/rules')).status).toBe(200);
  expect((await a.post('/events', { name: 'fuzz.after', payload: {} })).status).toBe(202);
}, 320_000);

/** What the first schemathesis runs found, fixed; each stays fixed. */
describe('findings', () => {
  let doc: any;
  beforeAll(async () => {
    doc = (await stack.anonymous.get('/openapi.json')).body;
  });

  test('the document says an SMS message and a template subject must not be empty', () => {
    const c = doc.components.schemas;
    expect(c.SmsAction.properties.params.properties.message.minLength).toBe(1);
    expect(c.EmailTemplateInput.properties.subject.minLength).toBe(1);
  });

  test('the document says a template needs text or html, an email action a templateId or subject and body', async () => {
    const c = doc.components.schemas;
    expect(c.EmailTemplateInput.anyOf.map((s: any) => s.required)).toEqual([['text'], ['html']]);
    expect(c.EmailAction.properties.params.anyOf[0]).toEqual({ required: ['templateId'] });
    // What the document now says is what the API does.
    const put = (body: object) => a.put(`/templates/fuzz-finding-${Date.now()}`, body);
    expect((await put({ name: 'n', subject: 's' })).status).toBe(400);
    expect((await put({ name: 'n', subject: 's', text: '' })).status).toBe(400);
    expect((await put({ name: 'n', subject: 's', html: '<p>x</p>' })).status).toBe(201);
  });

  test('the document says POST /events/batch takes any item (each is checked on its own)', async () => {
    const items =
      doc.paths['/events/batch'].post.requestBody.content['application/json'].schema.properties.events.items;
    // The second branch is any JSON value, spelled out (Redocly refuses an empty schema).
    expect(items.anyOf).toEqual([
      { $ref: '#/components/schemas/Event' },
      { type: ['object', 'array', 'string', 'number', 'boolean', 'null'] },
    ]);
    const res = await a.post('/events/batch', { events: [{ name: 'fuzz.batch', payload: {}, extra: 1 }] });
    expect(res.status).toBe(200);
    expect(res.body.results[0]).toMatchObject({ status: 400, error: { code: 'validation_failed' } });
  });

  test('the document lists 503 (Temporal unavailable) where the API can answer it', () => {
    for (const [p, m] of [
      ['/events', 'post'],
      ['/events/batch', 'post'],
      ['/executions', 'get'],
      ['/rules', 'post'],
      ['/rules/{id}/run-now', 'post'],
    ]) {
      expect([p, m, doc.paths[p][m].responses['503']?.content['application/json'].schema]).toEqual([
        p,
        m,
        { $ref: '#/components/schemas/Error' },
      ]);
    }
  });

  test('an email address the document calls invalid is refused', async () => {
    // Each was accepted before: a DNS label ending in a dash, a local part over 64, a label over 63.
    for (const email of [
      'tech@host-.example.com',
      `${'l'.repeat(65)}@example.com`,
      `a@${'d'.repeat(64)}.com`,
    ]) {
      const res = await a.post('/users', { externalId: `fuzz-${email.length}-${Date.now()}`, email });
      expect([email, res.status, res.body?.error?.details]).toEqual([
        email,
        400,
        [{ path: 'email', message: 'must be a valid email address' }],
      ]);
    }
    expect(
      (
        await a.post('/users', {
          externalId: `fuzz-ok-${Date.now()}`,
          email: "o'neil+crm@mail.example.co.uk",
        })
      ).status,
    ).toBe(201);
  });
});
