/**
 * `npm start` as a user runs it: the whole system from an empty data directory, a clean Ctrl-C that
 * leaves no process behind, and a second start that keeps the account and the runs still sleeping.
 *
 * It runs in a process group of its own and Ctrl-C is SIGINT to the whole group, as a terminal sends
 * it: a webhook in flight at that moment is delivered once, with its ledger row, and its run completes.
 * A SIGKILL of `npm start` alone leaves no process behind either, and the next start works.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HttpClient, eventually } from '../helpers/stack';
import { resolveTemporalCli } from '../../src/dev/temporal-bin';
import { freePort } from '../helpers/ports';
import { startReceiver } from '../helpers/receiver';

const ROOT = path.resolve(__dirname, '../..');
let dataDir: string;
let env: NodeJS.ProcessEnv;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'crm-start-'));
  env = {
    ...process.env,
    DATA_DIR: dataDir,
    PORT: String(await freePort()),
    EMBEDDED_PG_PORT: String(await freePort()),
    TEMPORAL_DEV_PORT: String(await freePort()),
    TEMPORAL_DEV_UI_PORT: String(await freePort()),
    WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
    TEMPORAL_RETENTION: '45d',
  };
  delete env.DATABASE_URL;
  delete env.TEMPORAL_ADDRESS;
  // /slow answers after 3 s: a delivery still in flight when Ctrl-C comes.
  receiver = await startReceiver((r) => ({ status: 200, delayMs: r.path === '/slow' ? 3000 : 0 }));
});
afterAll(async () => {
  await receiver?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  output: () => string;
  apiUrl: string;
  uiUrl: string;
  apiKey: string;
  seconds: number;
}

async function start(): Promise<Started> {
  const t0 = Date.now();
  // A process group of its own, as a terminal's shell gives a foreground job.
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/dev/start.ts')], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await eventually(
    () =>
      out.includes('Press Ctrl-C')
        ? true
        : child.exitCode !== null
          ? Promise.reject(new Error(out))
          : undefined,
    180_000,
    'npm start',
  );
  return {
    child,
    output: () => out,
    apiUrl: /API\s+(http:\/\/\S+)/.exec(out)![1],
    uiUrl: /Temporal UI\s+(http:\/\/\S+)/.exec(out)![1],
    apiKey: /API key: (\S+)/.exec(out)![1],
    seconds: (Date.now() - t0) / 1000,
  };
}

/** Ctrl-C: SIGINT to the whole process group. Returns the seconds until it exited. */
async function stop(s: Started): Promise<number> {
  const t0 = Date.now();
  const exited = new Promise<number | null>((resolve) => s.child.once('exit', (code) => resolve(code)));
  process.kill(-s.child.pid!, 'SIGINT');
  expect(await exited).toBe(0);
  const seconds = (Date.now() - t0) / 1000;
  // The last line says everything is down, and how long it took.
  expect(s.output().trimEnd().split('\n').pop()).toMatch(/^stopped \(\d+\.\d s\)$/);
  return seconds;
}

function leftovers(): string {
  try {
    return execFileSync('pgrep', ['-af', dataDir], { encoding: 'utf8' }).trim();
  } catch {
    return ''; // pgrep exits 1 when nothing matches
  }
}

test('npm start brings up everything, stops cleanly, and a restart keeps accounts and sleeping runs', async () => {
  const first = await start();
  console.log(`first start: ${first.seconds.toFixed(1)} s`);
  const api = new HttpClient(first.apiUrl, first.apiKey);
  expect((await api.get('/readyz')).status).toBe(200);
  const ui = await fetch(first.uiUrl);
  expect(ui.status).toBe(200);
  expect(await ui.text()).toContain('<html');
  // History is encrypted with keys generated into the data dir (0600), and the Web UI decodes through
  // the API's codec endpoint, which lets its origin in.
  expect(statSync(path.join(dataDir, 'payload-encryption-keys')).mode & 0o777).toBe(0o600);
  const settings = (await (await fetch(`${first.uiUrl}/api/v1/settings`)).json()) as any;
  expect(settings.Codec?.Endpoint).toBe(`${first.apiUrl}/codec`);
  const uiOrigin = new URL(first.uiUrl).origin;
  const preflight = await fetch(`${first.apiUrl}/codec/decode`, {
    method: 'OPTIONS',
    headers: { Origin: uiOrigin, 'Access-Control-Request-Method': 'POST' },
  });
  expect(preflight.status).toBe(204);
  expect(preflight.headers.get('access-control-allow-origin')).toBe(uiOrigin);

  // A run that will still be sleeping when we stop.
  const rule = await api.post('/rules', {
    name: 'Later',
    trigger: { eventName: 'job.created' },
    delay: { value: 4, unit: 'seconds' },
    actions: [
      { type: 'webhook', params: { url: `${receiver.url}/later`, payload: { n: '{{job.number}}' } } },
    ],
  });
  expect(rule.status).toBe(201);
  expect(
    (await api.post('/events', { id: 'e-restart', name: 'job.created', payload: { job: { number: 'J-9' } } }))
      .status,
  ).toBe(202);

  // The namespace keeps closed runs for TEMPORAL_RETENTION, and the execution log says so.
  const described = JSON.parse(
    execFileSync(
      resolveTemporalCli(),
      [
        'operator',
        'namespace',
        'describe',
        '--address',
        `127.0.0.1:${env.TEMPORAL_DEV_PORT}`,
        '-n',
        'default',
        '-o',
        'json',
      ],
      { encoding: 'utf8' },
    ),
  );
  expect(described.config.workflowExecutionRetentionTtl).toBe(`${45 * 86400}s`);
  const log = await api.get('/executions');
  expect(log.status).toBe(200);
  expect(log.body.retention).toEqual({ seconds: 45 * 86400, duration: '45d' });

  // A delivery in flight when Ctrl-C comes: the receiver has the request and answers 3 s later.
  const slow = await api.post('/rules', {
    name: 'Now, slowly received',
    trigger: { eventName: 'job.done' },
    delay: { value: 0, unit: 'seconds' },
    actions: [{ type: 'webhook', params: { url: `${receiver.url}/slow`, payload: { n: '{{job.number}}' } } }],
  });
  expect(slow.status).toBe(201);
  expect(
    (await api.post('/events', { id: 'e-slow', name: 'job.done', payload: { job: { number: 'J-7' } } }))
      .status,
  ).toBe(202);
  await eventually(() => receiver.received.find((r) => r.path === '/slow'), 60_000, 'the slow delivery');

  const stopSeconds = await stop(first);
  console.log(`stop with a delivery in flight: ${stopSeconds.toFixed(1)} s`);
  expect(stopSeconds).toBeLessThan(15);
  expect(leftovers()).toBe('');
  expect(receiver.received.map((r) => r.path)).toEqual(['/slow']);

  const second = await start();
  console.log(`second start: ${second.seconds.toFixed(1)} s`);
  try {
    expect(second.apiKey).toBe(first.apiKey);
    const again = new HttpClient(second.apiUrl, second.apiKey);
    expect((await again.get(`/rules/${rule.body.id}`)).status).toBe(200);
    const got = await eventually(
      () => receiver.received.find((r) => r.path === '/later'),
      60_000,
      'the sleeping run',
    );
    expect(got.body).toEqual({ n: 'J-9' });
    // The run that was delivering when we stopped has completed, with its one ledger row.
    const runs = await eventually(
      async () => {
        const r = await again.get(`/executions?ruleId=${slow.body.id}`);
        return r.body.items?.length ? r.body.items : undefined;
      },
      30_000,
      'the slow run in the log',
    );
    const run = await eventually(
      async () => {
        const r = await again.get(`/executions/${runs[0].workflowId}`);
        return r.body.status === 'completed' ? r.body : undefined;
      },
      60_000,
      'the slow run completed',
    );
    expect(run.deliveries).toHaveLength(1);
    expect(run.deliveries[0].channel).toBe('webhook');
    await new Promise((r) => setTimeout(r, 1000));
    expect(receiver.received.map((r) => r.path).sort()).toEqual(['/later', '/slow']);
  } catch (err) {
    await stop(second).catch(() => undefined);
    throw err;
  }

  // Killed outright, npm start takes its servers with it; the next start works on the same data.
  const killed = new Promise((resolve) => second.child.once('exit', resolve));
  process.kill(second.child.pid!, 'SIGKILL');
  await killed;
  await eventually(() => (leftovers() === '' ? true : undefined), 20_000, 'no process left behind');

  const third = await start();
  try {
    expect((await new HttpClient(third.apiUrl, third.apiKey).get('/readyz')).status).toBe(200);
  } finally {
    // Idle, it stops in well under 3 s.
    const idleStop = await stop(third);
    console.log(`idle stop: ${idleStop.toFixed(1)} s`);
    expect(idleStop).toBeLessThan(3);
  }
  expect(leftovers()).toBe('');
}, 400_000);
