/**
 * API keys with roles: every role against every route of the app (read from its router, so a new
 * route cannot skip it), revocation, the CLI, and the throttling of failed credentials.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { Init1732200000000 } from '../../migrations/1732200000000-Init';
import { createApp } from '../../src/api/app';
import { migrate } from '../../src/cli/main';
import { createLogger } from '../../src/logger';
import { requiredRole } from '../../src/services/keys';
import { routeTable } from '../helpers/routes';
import { eventually, HttpClient, startStack, type AccountClient, type Stack } from '../helpers/stack';

let stack: Stack;
let acct: AccountClient;
const keys: Record<string, HttpClient> = {};

beforeAll(async () => {
  stack = await startStack({ AUTH_FAILURES_PER_MINUTE: '0' });
  acct = await stack.account('Keys');
  for (const role of ['ingest', 'read', 'full']) {
    const res = await acct.post('/keys', { name: `${role} key`, role });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^key_/),
      name: `${role} key`,
      role,
      key: expect.stringMatching(/^crm_/),
      createdAt: expect.any(String),
    });
    keys[role] = new HttpClient(stack.url, res.body.key);
  }
});
afterAll(async () => {
  await stack?.stop();
});

/** Swagger UI's page, served by a route of its own under the documented GET /docs. */
const UNDOCUMENTED = new Set(['/docs/']);

describe('each role against every route', () => {
  let routes: [string, string][];
  let doc: any;
  beforeAll(async () => {
    const app = createApp({
      config: stack.config,
      db: stack.db,
      temporal: stack.temporal,
      log: createLogger('silent', 'test'),
    });
    doc = (await stack.anonymous.get('/openapi.json')).body;
    // OPTIONS is the CORS preflight the codec route answers for the Temporal Web UI, not an operation.
    const all = routeTable(app).filter(([method, p]) => method !== 'OPTIONS' && !UNDOCUMENTED.has(p));
    for (const [method, p] of all) {
      const op = doc.paths[p]?.[method.toLowerCase()];
      expect({ method, p, documented: !!op }).toEqual({ method, p, documented: true });
    }
    // Public and operator-token operations declare their own `security`; the rest take an API key.
    routes = all.filter(([method, p]) => doc.paths[p][method.toLowerCase()].security === undefined);
  });

  test('the route table is the OpenAPI document, and every operation states its role', () => {
    expect(routes.length).toBeGreaterThan(20);
    for (const [method, p] of routes) {
      const op = doc.paths[p][method.toLowerCase()];
      expect(op['x-required-role']).toBe(requiredRole(method, p));
      expect(op.description).toMatch(/Needs a key with role|Any key may call it/);
    }
  });

  test.each(['ingest', 'read', 'full'])(
    'a %s key: allowed operations pass auth, the others are 403',
    async (role) => {
      const seen: string[] = [];
      for (const [method, p] of routes) {
        const url = p.replace(/\{\w+\}/g, 'nope_0');
        const needed = requiredRole(method, p);
        const res = await keys[role].request(
          method,
          url,
          method === 'GET' || method === 'DELETE' ? undefined : {},
        );
        const allowed = role === 'full' || needed === role || needed === 'any';
        if (allowed) {
          expect({ method, p, authFailed: [401, 403].includes(res.status) }).toEqual({
            method,
            p,
            authFailed: false,
          });
        } else {
          expect({ method, p, status: res.status, code: res.body?.error?.code }).toEqual({
            method,
            p,
            status: 403,
            code: 'forbidden',
          });
          expect(res.body.error.message).toContain(`"${needed}"`);
        }
        seen.push(`${method} ${p}`);
      }
      expect(seen).toContain('POST /events');
      expect(seen).toContain('DELETE /rules/{id}');
    },
  );
});

test('the key POST /accounts returns is full, and GET /keys shows no secret', async () => {
  const me = await acct.get('/keys/current');
  expect(me.status).toBe(200);
  expect(me.body).toMatchObject({ name: 'default', role: 'full', prefix: acct.apiKey.slice(0, 12) });
  const list = await acct.get('/keys');
  expect(list.status).toBe(200);
  expect(list.body.items.map((k: any) => k.role)).toEqual(['full', 'ingest', 'read', 'full']);
  const text = JSON.stringify(list.body);
  expect(text).not.toContain(acct.apiKey);
  for (const k of list.body.items)
    expect(Object.keys(k).sort()).toEqual(['createdAt', 'id', 'lastUsedAt', 'name', 'prefix', 'role']);
  expect((await keys.ingest.get('/keys/current')).body.role).toBe('ingest');
  // lastUsedAt is written off the request's path, at most once a minute.
  await eventually(async () => {
    const items = (await acct.get('/keys')).body.items;
    return items.every((k: any) => k.lastUsedAt !== null) ? true : undefined;
  });
});

test('a revoked key answers 401 at once; another account cannot revoke it', async () => {
  const created = await acct.post('/keys', { name: 'temp', role: 'read' });
  const temp = new HttpClient(stack.url, created.body.key);
  expect((await temp.get('/rules')).status).toBe(200); // now cached
  const other = await stack.account('Other');
  expect((await other.delete(`/keys/${created.body.id}`)).status).toBe(404);
  expect((await acct.delete(`/keys/${created.body.id}`)).status).toBe(204);
  const after = await temp.get('/rules');
  expect(after.status).toBe(401);
  expect(after.body.error.code).toBe('unauthorized');
  expect((await acct.delete(`/keys/${created.body.id}`)).status).toBe(404);
  const audit = await acct.get(`/audit?entity=key&entityId=${created.body.id}`);
  expect(audit.body.items.map((e: any) => e.action)).toEqual(['create', 'revoke']);
  expect(JSON.stringify(audit.body)).not.toContain(created.body.key);
});

test("the account's last full key cannot be revoked", async () => {
  const solo = await stack.account('Solo');
  const own = (await solo.get('/keys/current')).body.id;
  const res = await solo.delete(`/keys/${own}`);
  expect(res.status).toBe(409);
  expect(res.body.error.code).toBe('last_full_key');
  // With a second full key, the first one can go (even by itself).
  const second = await solo.post('/keys', { name: 'second', role: 'full' });
  expect((await solo.delete(`/keys/${own}`)).status).toBe(204);
  expect((await solo.get('/keys')).status).toBe(401);
  const other = new HttpClient(stack.url, second.body.key);
  expect((await other.delete(`/keys/${second.body.id}`)).status).toBe(409);
});

test('bad key bodies are 400 with details', async () => {
  const res = await acct.post('/keys', { name: 'x', role: 'admin' });
  expect(res.status).toBe(400);
  expect(res.body.error.details[0].path).toBe('role');
});

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const root = path.join(__dirname, '../..');
  return new Promise((resolve) =>
    execFile(
      path.join(root, 'node_modules/.bin/tsx'),
      ['src/cli/main.ts', ...args],
      { cwd: root, env: { ...process.env, DATABASE_URL: stack.config.DATABASE_URL }, timeout: 120_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    ),
  );
}

test('CLI: key create, list and revoke print JSON', async () => {
  const created = await cli(['key', 'create', '--account', acct.id, '--name', 'crm', '--role', 'ingest']);
  expect(created.code).toBe(0);
  const key = JSON.parse(created.stdout);
  expect(key).toMatchObject({ name: 'crm', role: 'ingest', key: expect.stringMatching(/^crm_/) });
  const ingest = new HttpClient(stack.url, key.key);
  expect((await ingest.post('/events', { name: 'cli.test', payload: {} })).status).toBe(202);
  const list = await cli(['key', 'list', '--account', acct.id]);
  expect(JSON.parse(list.stdout).map((k: any) => k.id)).toContain(key.id);
  expect(list.stdout).not.toContain(key.key);
  const revoked = await cli(['key', 'revoke', '--account', acct.id, key.id]);
  expect(revoked.code).toBe(0);
  expect(JSON.parse(revoked.stdout)).toEqual({ revoked: key.id });
  const bad = await cli(['key', 'create', '--account', acct.id, '--name', 'x', '--role', 'root']);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain('role');
});

test("the migration keeps each existing account's key working, as a full key", async () => {
  const admin = new Client({
    connectionString: process.env.TEST_DATABASE_URL!.replace(/\/crm$/, '/postgres'),
  });
  await admin.connect();
  const name = `keys_${Date.now()}`;
  await admin.query(`CREATE DATABASE ${name}`);
  try {
    const url = process.env.TEST_DATABASE_URL!.replace(/\/crm$/, `/${name}`);
    const old = await new DataSource({ type: 'postgres', url, migrations: [Init1732200000000] }).initialize();
    await old.runMigrations();
    await old.query(
      `INSERT INTO accounts (id, name, api_key_hash, webhook_secret) VALUES ('acc_old', 'Old', 'hash-old', 's')`,
    );
    await old.query(
      `INSERT INTO rules (id, account_id, name, enabled, trigger, delay, conditions, actions, version)
       VALUES ('rule_old', 'acc_old', 'Old rule', true, '{"eventName":"e"}', '{"value":0,"unit":"seconds"}',
               '{"all":[]}', '[]', 3)`,
    );
    await old.destroy();
    expect(await migrate(url)).toContain('KeysAudit1764900000400');
    const db = await new DataSource({ type: 'postgres', url }).initialize();
    const rows = await db.query(`SELECT account_id, role, key_hash, name FROM api_keys`);
    // The rule's current version is readable at GET /rules/:id/versions/3.
    const [snapshot] = await db.query(
      `SELECT action, version, after FROM audit_entries WHERE entity = 'rule'`,
    );
    await db.destroy();
    expect(snapshot).toMatchObject({
      action: 'snapshot',
      version: 3,
      after: { id: 'rule_old', name: 'Old rule', version: 3 },
    });
    expect(new Date(snapshot.after.createdAt).toISOString()).toBe(snapshot.after.createdAt);
    expect(rows).toEqual([{ account_id: 'acc_old', role: 'full', key_hash: 'hash-old', name: 'default' }]);
  } finally {
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    await admin.end();
  }
});
