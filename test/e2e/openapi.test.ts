/** GET /openapi.json and the /docs page, against the running API; the served document is linted. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jsonSchema } from '../../src/api/openapi-helpers';
import { DELAY_UNITS, OPERATORS, ruleBodySchema } from '../../src/shared/schemas';
import { startStack, type AccountClient, type Stack } from '../helpers/stack';

let stack: Stack;
let acct: AccountClient;
let doc: any;

beforeAll(async () => {
  stack = await startStack();
  acct = await stack.account('OpenAPI');
  const res = await stack.anonymous.get('/openapi.json');
  expect(res.status).toBe(200);
  doc = res.body;
});
afterAll(async () => {
  await stack?.stop();
});

/** Every route of the product (DESIGN.md and the issues), with its methods. */
const ROUTES: Record<string, string[]> = {
  '/accounts': ['post'],
  '/account': ['get', 'patch'],
  '/rules': ['get', 'post'],
  '/rules/test': ['post'],
  '/rules/{id}': ['delete', 'get', 'patch', 'put'],
  '/rules/{id}/test': ['post'],
  '/rules/{id}/run-now': ['post'],
  '/rules/{id}/versions': ['get'],
  '/rules/{id}/versions/{version}': ['get'],
  '/rules/{id}/versions/{version}/restore': ['post'],
  '/users': ['get', 'post'],
  '/users/{id}': ['delete', 'get', 'patch', 'put'],
  '/templates': ['get'],
  '/templates/{id}': ['delete', 'get', 'put'],
  '/events': ['post'],
  '/events/batch': ['post'],
  '/event-types': ['get'],
  '/event-types/{name}': ['delete', 'get'],
  '/executions': ['get'],
  '/executions/stats': ['get'],
  '/executions/stats/daily': ['get'],
  '/executions/{workflowId}': ['get'],
  '/executions/{workflowId}/cancel': ['post'],
  '/executions/{workflowId}/retry': ['post'],
  '/outbox': ['get'],
  '/keys': ['get', 'post'],
  '/keys/current': ['get'],
  '/keys/{id}': ['delete'],
  '/audit': ['get'],
  '/codec/decode': ['post'],
  '/codec/encode': ['post'],
  '/suppressions': ['get', 'post'],
  '/suppressions/{id}': ['delete'],
  '/webhooks/twilio/inbound': ['post'],
  '/webhooks/twilio/status': ['post'],
  '/unsubscribe/{token}': ['get', 'post'],
  '/account/webhook-secret/rotate': ['post'],
  '/healthz': ['get'],
  '/readyz': ['get'],
  '/metrics': ['get'],
  '/openapi.json': ['get'],
  '/docs': ['get'],
  '/': ['get'],
};
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

function resolve(ref: string): unknown {
  expect(ref).toMatch(/^#\//);
  return ref
    .slice(2)
    .split('/')
    .reduce<any>((node, key) => node?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
}

function operations(): [string, string, any][] {
  return Object.entries(doc.paths).flatMap(([path, item]: [string, any]) =>
    Object.keys(item)
      .filter((m) => METHODS.includes(m))
      .map((m) => [path, m, item[m]] as [string, string, any]),
  );
}

test('an OpenAPI 3.1.0 document object', () => {
  expect(typeof doc).toBe('object');
  expect(doc.openapi).toBe('3.1.0');
  expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
  expect(doc.components.securitySchemes.apiKey).toEqual(
    expect.objectContaining({ type: 'http', scheme: 'bearer' }),
  );
  expect(doc.security).toEqual([{ apiKey: [] }]);
  for (const key of Object.keys(doc)) {
    expect(['openapi', 'info', 'tags', 'components', 'security', 'paths', 'servers', 'webhooks']).toContain(
      key,
    );
  }
});

test('every route of the product is described, with exactly its methods', () => {
  expect(Object.keys(doc.paths).sort()).toEqual(Object.keys(ROUTES).sort());
  for (const [path, methods] of Object.entries(ROUTES)) {
    expect(
      Object.keys(doc.paths[path])
        .filter((k) => METHODS.includes(k))
        .sort(),
    ).toEqual(methods);
  }
});

test('every operation is well formed: unique id, responses, declared path parameters', () => {
  const ids = new Set<string>();
  for (const [path, method, op] of operations()) {
    const where = `${method.toUpperCase()} ${path}`;
    expect([where, typeof op.summary]).toEqual([where, 'string']);
    // A generated client names its methods after these: present, unique, camelCase.
    expect([where, op.operationId]).toEqual([where, expect.stringMatching(/^[a-z][A-Za-z0-9]+$/)]);
    expect(ids.has(op.operationId)).toBe(false);
    ids.add(op.operationId);
    const codes = Object.keys(op.responses ?? {});
    expect([where, codes.some((c) => /^[23]\d\d$/.test(c))]).toEqual([where, true]);
    for (const c of codes) {
      expect(c).toMatch(/^[1-5]\d\d$/);
      expect(typeof op.responses[c].description).toBe('string');
    }
    const params = [...(doc.paths[path].parameters ?? []), ...(op.parameters ?? [])];
    for (const p of params) {
      expect(['query', 'path', 'header', 'cookie']).toContain(p.in);
      expect(typeof p.name).toBe('string');
      expect(typeof p.schema).toBe('object');
      if (p.in === 'path') expect(p.required).toBe(true);
    }
    for (const [, name] of path.matchAll(/\{(\w+)\}/g)) {
      expect([where, params.some((p) => p.in === 'path' && p.name === name)]).toEqual([where, true]);
    }
    // JSON everywhere, except the form posts Twilio and mail clients make.
    if (op.requestBody) {
      const content =
        op.requestBody.content['application/json'] ??
        op.requestBody.content['application/x-www-form-urlencoded'];
      expect([where, content?.schema]).toEqual([where, expect.any(Object)]);
    }
  }
  expect(ids.size).toBeGreaterThan(20);
});

test('stable operation ids for the generated client', () => {
  const id = (p: string, m: string) => doc.paths[p][m].operationId;
  expect([id('/rules', 'get'), id('/rules', 'post'), id('/rules/{id}', 'get')]).toEqual([
    'listRules',
    'createRule',
    'getRule',
  ]);
  expect([
    id('/executions', 'get'),
    id('/executions/{workflowId}', 'get'),
    id('/executions/stats', 'get'),
  ]).toEqual(['listExecutions', 'getExecution', 'getExecutionStats']);
  expect([id('/executions/{workflowId}/cancel', 'post'), id('/event-types/{name}', 'get')]).toEqual([
    'cancelExecution',
    'getEventType',
  ]);
});

describe('the served document passes the linters CI runs', () => {
  let dir: string;
  let file: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'openapi-lint-'));
    file = path.join(dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(doc, null, 2));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("Redocly's recommended ruleset (the pinned @redocly/cli): no errors", () => {
    const bin = path.join(__dirname, '../../node_modules/.bin/redocly');
    const r = spawnSync(bin, ['lint', file, '--extends', 'recommended', '--format', 'json'], {
      encoding: 'utf8',
      timeout: 120_000,
      env: {
        ...process.env,
        REDOCLY_TELEMETRY: 'off',
        REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
        NO_COLOR: '1',
      },
    });
    const report = JSON.parse(r.stdout.slice(r.stdout.indexOf('{')));
    const errors = report.problems.filter((p: { severity: string }) => p.severity === 'error');
    expect(errors.map((p: { ruleId: string; message: string }) => `${p.ruleId}: ${p.message}`)).toEqual([]);
    expect(r.status).toBe(0);
    // What the issue named: servers, license, operation ids, empty anyOf branches.
    const ruleIds = report.problems.map((p: { ruleId: string }) => p.ruleId);
    for (const rule of [
      'no-empty-servers',
      'info-license',
      'operation-operationId',
      'no-illogical-composition-keywords',
    ])
      expect(ruleIds).not.toContain(rule);
  });

  test('openapi-spec-validator (PyPI) accepts it', () => {
    // Installed from PyPI into a temp dir when the machine has none, as the fuzz test installs schemathesis.
    const env = { ...process.env };
    if (spawnSync('python3', ['-c', 'import openapi_spec_validator']).status !== 0) {
      const target = path.join(dir, 'py');
      const pip = spawnSync(
        'python3',
        [
          '-m',
          'pip',
          'install',
          '--quiet',
          '--disable-pip-version-check',
          '--target',
          target,
          'openapi-spec-validator==0.9.0',
        ],
        { encoding: 'utf8', timeout: 300_000, env: { ...env, PIP_ROOT_USER_ACTION: 'ignore' } },
      );
      expect([pip.status, pip.stderr.slice(-500)]).toEqual([0, expect.any(String)]);
      env.PYTHONPATH = target;
    }
    const r = spawnSync('python3', ['-m', 'openapi_spec_validator', file], {
      encoding: 'utf8',
      timeout: 120_000,
      env,
    });
    expect([r.status, r.stdout.trim()]).toEqual([0, `${file}: OK`]);
  });
});

test('every $ref resolves', () => {
  const refs: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (k === '$ref') refs.push(v as string);
        else walk(v);
      }
    }
  };
  walk(doc);
  expect(refs.length).toBeGreaterThan(20);
  for (const ref of refs) expect([ref, resolve(ref) !== undefined]).toEqual([ref, true]);
  expect(JSON.stringify(doc)).not.toContain('#/$defs/');
});

test('schemas are generated from the zod schemas the API validates with', () => {
  const body = doc.paths['/rules'].post.requestBody.content['application/json'].schema;
  expect(body).toEqual(jsonSchema(ruleBodySchema));
  const rule = resolve(body.$ref) as any;
  expect(rule.required).toEqual(['name', 'trigger', 'actions']);
  // A delay is {value, unit} or {until, offset, ifPast}.
  const delays = (rule.properties.delay.anyOf as { $ref: string }[]).map((d) => resolve(d.$ref) as any);
  expect(delays[0].properties.unit.enum).toEqual([...DELAY_UNITS]);
  expect(delays[1].required).toEqual(['until']);
  expect(resolve(rule.properties.window.anyOf[0].$ref)).toMatchObject({ required: ['start', 'end'] });
  const condition = doc.components.schemas.Condition;
  expect(condition.properties.operator.enum).toEqual([...OPERATORS]);
  expect(condition.additionalProperties).toBe(false);
  // The action union names its three types.
  const action = doc.components.schemas.Action;
  const types = action.oneOf.map((o: any) => (resolve(o.$ref) as any).properties.type.const);
  expect(types).toEqual(['sms', 'email', 'webhook']);
  // Responses too.
  const listed = doc.paths['/rules'].get.responses['200'].content['application/json'].schema;
  expect(listed.required).toEqual(['items', 'nextCursor']);
  expect(doc.paths['/rules/{id}/test'].post.responses['200'].content['application/json'].schema.$ref).toBe(
    '#/components/schemas/DryRunResult',
  );
  expect(doc.paths['/accounts'].post.security).toEqual([{ adminToken: [] }]);
  expect(doc.paths['/healthz'].get.security).toEqual([]);
});

test('the documented example rule is one the API accepts', async () => {
  const example = doc.paths['/rules'].post.requestBody.content['application/json'].example;
  expect(example).toEqual(expect.objectContaining({ trigger: { eventName: 'job.status.changed' } }));
  expect((await acct.post('/rules', example)).status).toBe(201);
  const unsaved = doc.paths['/rules/test'].post.requestBody.content['application/json'].schema;
  expect(unsaved.properties.rule).toEqual({ $ref: '#/components/schemas/RuleInput' });
});

test('every documented operation exists on the server (none answers "no route")', async () => {
  const ids: Record<string, string> = { id: 'nothing', workflowId: 'nothing', version: '1' };
  for (const [path, method] of operations()) {
    const url = path.replace(/\{(\w+)\}/g, (_m, name: string) => ids[name]);
    const res = await acct.request(
      method.toUpperCase(),
      url,
      method === 'get' || method === 'delete' ? undefined : {},
    );
    const noRoute = res.status === 404 && /^no route/.test(res.body?.error?.message ?? '');
    expect([`${method} ${path}`, noRoute]).toEqual([`${method} ${path}`, false]);
    expect(res.status).toBeLessThan(500);
  }
});

test('/docs serves the interactive page, which reads /openapi.json', async () => {
  const res = await fetch(`${stack.url}/docs`);
  expect(res.status).toBe(200);
  expect(res.url).toBe(`${stack.url}/docs/`);
  expect(res.headers.get('content-type')).toMatch(/text\/html/);
  const html = await res.text();
  expect(html).toMatch(/<html/i);
  expect(html).toContain('swagger-ui');
  const init = await fetch(`${stack.url}/docs/swagger-ui-init.js`);
  expect(init.status).toBe(200);
  expect(await init.text()).toContain('/openapi.json');
  for (const asset of ['swagger-ui.css', 'swagger-ui-bundle.js']) {
    const a = await fetch(`${stack.url}/docs/${asset}`);
    expect([asset, a.status]).toEqual([asset, 200]);
    await a.arrayBuffer();
  }
});
