/**
 * `npm start` as a user runs it: the whole system from an empty data directory, a clean Ctrl-C that
 * leaves no process behind, and a second start that keeps the account and the runs still sleeping.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HttpClient, eventually } from '../helpers/stack';
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
  };
  delete env.DATABASE_URL;
  delete env.TEMPORAL_ADDRESS;
  receiver = await startReceiver();
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
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/dev/start.ts')], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
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

async function stop(s: Started): Promise<number> {
  const t0 = Date.now();
  const exited = new Promise<number | null>((resolve) => s.child.once('exit', (code) => resolve(code)));
  s.child.kill('SIGINT');
  expect(await exited).toBe(0);
  return (Date.now() - t0) / 1000;
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

  const stopSeconds = await stop(first);
  console.log(`stop: ${stopSeconds.toFixed(1)} s`);
  expect(stopSeconds).toBeLessThan(15);
  expect(leftovers()).toBe('');
  expect(receiver.received).toHaveLength(0);

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
    await new Promise((r) => setTimeout(r, 1000));
    expect(receiver.received).toHaveLength(1);
  } finally {
    await stop(second);
  }
  expect(leftovers()).toBe('');
}, 400_000);
