import net from 'node:net';
import { Client } from 'pg';
import { createDataSource } from '../../src/db/data-source';
import { migrate } from '../../src/cli/main';
import { loadConfig, ConfigError } from '../../src/config';
import { startApi } from '../../src/api/server';
import { createLogger } from '../../src/logger';
import { startStack, HttpClient, type Stack } from '../helpers/stack';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

describe('accounts and auth', () => {
  test('POST /accounts with the admin token creates an account whose key works', async () => {
    const res = await new HttpClient(stack.url, stack.adminToken).post('/accounts', {
      name: 'Acme Plumbing',
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^acc_/),
      name: 'Acme Plumbing',
      apiKey: expect.stringMatching(/^crm_/),
      webhookSecret: expect.stringMatching(/^whsec_/),
    });
    const stored = await stack.db.query('SELECT key_hash, role FROM api_keys WHERE account_id = $1', [
      res.body.id,
    ]);
    expect(stored).toEqual([{ key_hash: expect.any(String), role: 'full' }]);
    expect(stored[0].key_hash).not.toContain(res.body.apiKey);
    const authed = await new HttpClient(stack.url, res.body.apiKey).post('/events', {
      name: 'job.created',
      payload: {},
    });
    expect(authed.status).toBe(202);
  });

  test.each([
    ['no token', undefined],
    ['a wrong token', 'not-the-admin-token-at-all'],
  ])('POST /accounts with %s is 401 with the JSON error body', async (_what, token) => {
    const res = await new HttpClient(stack.url, token).post('/accounts', { name: 'x' });
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ code: 'unauthorized', message: expect.any(String) });
  });

  test('POST /accounts validates the name', async () => {
    const res = await new HttpClient(stack.url, stack.adminToken).post('/accounts', { name: '' });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].path).toBe('name');
  });

  test('account routes need a valid API key', async () => {
    expect((await stack.anonymous.post('/events', { name: 'a.b', payload: {} })).status).toBe(401);
    const wrong = await new HttpClient(stack.url, 'crm_wrong').post('/events', { name: 'a.b', payload: {} });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('unauthorized');
  });
});

describe('HTTP basics', () => {
  test('healthz and readyz answer 200 when everything is up', async () => {
    expect((await stack.anonymous.get('/healthz')).status).toBe(200);
    const ready = await stack.anonymous.get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ database: 'ok', temporal: 'ok' });
  });

  test('malformed JSON is 400, an oversized body 413, an unknown route 404 — all JSON', async () => {
    const acct = await stack.account();
    const bad = await acct.request('POST', '/events', '{"name":', { 'Content-Type': 'application/json' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_json');
    const huge = await acct.request(
      'POST',
      '/events',
      JSON.stringify({ name: 'a.b', payload: { x: 'y'.repeat(2_000_000) } }),
    );
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('body_too_large');
    const missing = await stack.anonymous.get('/no/such/route');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
  });
});

describe('readiness with the database down', () => {
  test('readyz is 503 naming the database', async () => {
    // A second API on an unreachable database: the running stack stays intact.
    const db = createDataSource('postgres://postgres:postgres@127.0.0.1:1/nothing');
    const api = await startApi({ config: stack.config, db, log: createLogger('silent', 't'), port: 0 });
    try {
      const res = await new HttpClient(api.url).get('/readyz');
      expect(res.status).toBe(503);
      expect(res.body.error.message).toContain('database');
      expect(res.body.checks.temporal).toBe('ok');
    } finally {
      await api.stop();
    }
  });
});

describe('migrations', () => {
  test('an empty database migrates up from zero, and a second run is a no-op', async () => {
    const admin = new Client({
      connectionString: process.env.TEST_DATABASE_URL!.replace(/\/crm$/, '/postgres'),
    });
    await admin.connect();
    const name = `migrate_${Date.now()}`;
    await admin.query(`CREATE DATABASE ${name}`);
    try {
      const url = process.env.TEST_DATABASE_URL!.replace(/\/crm$/, `/${name}`);
      expect(await migrate(url)).toEqual(
        expect.arrayContaining(['Init1732200000000', 'EventCatalogue1764900000300']),
      );
      expect(await migrate(url)).toEqual([]);
      const db = await createDataSource(url).initialize();
      const tables = await db.query(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
      );
      await db.destroy();
      expect(tables.map((t: { table_name: string }) => t.table_name)).toEqual(
        expect.arrayContaining([
          'accounts',
          'deliveries',
          'email_templates',
          'event_types',
          'outbox_messages',
          'rules',
          'users',
        ]),
      );
    } finally {
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
      await admin.end();
    }
  });
});

describe('configuration', () => {
  test('a bad value is refused with the variable named', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ TWILIO_ACCOUNT_SID: 'AC1' })).toThrow(/TWILIO_AUTH_TOKEN/);
    expect(loadConfig({}).TEMPORAL_TASK_QUEUE).toBe('crm-automation');
  });
});

describe('event rate limit', () => {
  test('past the per-key limit POST /events is 429 with Retry-After; other keys are unaffected', async () => {
    const limited = await startStack({ EVENTS_RATE_LIMIT_PER_MINUTE: '3' }, { worker: false });
    try {
      const a = await limited.account('A');
      const b = await limited.account('B');
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++)
        statuses.push((await a.post('/events', { name: 'job.created', payload: {} })).status);
      expect(statuses).toEqual([202, 202, 202, 429]);
      const refused = await a.post('/events', { name: 'job.created', payload: {} });
      expect(refused.status).toBe(429);
      expect(refused.body.error.code).toBe('rate_limited');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await b.post('/events', { name: 'job.created', payload: {} })).status).toBe(202);
    } finally {
      await limited.stop();
    }
  });
});

describe('Temporal unreachable', () => {
  test('POST /events answers 503 temporal_unavailable within seconds, and readyz names Temporal', async () => {
    // A TCP proxy in front of the run's Temporal server, closed to make Temporal unreachable.
    const [host, port] = process.env.TEST_TEMPORAL_ADDRESS!.split(':');
    const sockets = new Set<net.Socket>();
    const proxy = net.createServer((client) => {
      const upstream = net.connect(Number(port), host);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const proxied = {
      ...stack.config,
      TEMPORAL_ADDRESS: `127.0.0.1:${(proxy.address() as net.AddressInfo).port}`,
    };
    const api = await startApi({ config: proxied, db: stack.db, log: createLogger('silent', 't'), port: 0 });
    try {
      const acct = await stack.account();
      const client = new HttpClient(api.url, acct.apiKey);
      expect((await client.post('/events', { name: 'job.created', payload: {} })).status).toBe(202);
      proxy.close();
      for (const s of sockets) s.destroy();
      const t0 = Date.now();
      const res = await client.post('/events', { id: 'while-down', name: 'job.created', payload: {} });
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('temporal_unavailable');
      expect(res.headers.get('retry-after')).toBe('5');
      expect(Date.now() - t0).toBeLessThan(10_000);
      // A batch answers per event, so the CRM knows exactly which events to send again.
      const batch = await client.post('/events/batch', {
        events: [{ id: 'batch-down', name: 'job.created', payload: {} }, { name: 'bad name!' }],
      });
      expect(batch.status).toBe(200);
      expect(batch.body.results.map((r: { status: number }) => r.status)).toEqual([503, 400]);
      expect(batch.body.results[0].error.code).toBe('temporal_unavailable');
      const ready = await client.get('/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body.error.message).toContain('temporal');
    } finally {
      await api.stop();
    }
  }, 60_000);
});
