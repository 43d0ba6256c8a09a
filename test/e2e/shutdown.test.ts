/**
 * Graceful shutdown of the real processes (`npm run api` / `npm run worker`, i.e. `node --import tsx
 * src/…/main.ts`) on this run's PostgreSQL and Temporal server, each on a task queue of its own:
 *
 * - the API, on SIGTERM, refuses new connections, finishes a request that is still arriving, closes its
 *   pools and exits 0 — with the client keeping its connection alive, as a load balancer does;
 * - the worker, on SIGTERM, lets an in-flight activity (a webhook whose receiver answers slowly) finish
 *   and report, then exits 0; another worker completes the run without a second delivery.
 *
 * Their logs are checked on the way: JSON lines, request ids, run ids on activity lines, secrets redacted.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { freePort } from '../helpers/ports';
import { spawnNode, type Proc } from '../helpers/process';
import { eventually, HttpClient } from '../helpers/stack';

const ROOT = path.resolve(__dirname, '../..');
const ADMIN_TOKEN = `admin-${randomBytes(12).toString('hex')}`;
const uniq = () => randomBytes(4).toString('hex');

type Env = Record<string, string | undefined>;
/** Starts `node --import tsx <entry>` the way the npm scripts do, collecting its JSON log lines. */
function start(entry: string, env: Env): Proc {
  return spawnNode(['--import', 'tsx', entry], ROOT, {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...env,
  } as NodeJS.ProcessEnv);
}

async function waitForLog(
  p: Proc,
  predicate: (l: Record<string, any>) => boolean,
  what: string,
  ms = 60_000,
) {
  return eventually(
    () => {
      if (p.child.exitCode !== null) throw new Error(`exited ${p.child.exitCode}`);
      return p.lines.find(predicate);
    },
    ms,
    what,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n--- output ---\n${p.output().slice(-4000)}`);
  });
}

function baseEnv(taskQueue: string): Env {
  return {
    DATABASE_URL: process.env.TEST_DATABASE_URL,
    TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS,
    TEMPORAL_TASK_QUEUE: taskQueue,
    ADMIN_TOKEN,
    LOG_LEVEL: 'info',
    WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
  };
}

async function startApiProcess(taskQueue: string, extra: Env = {}) {
  const port = await freePort();
  const proc = start('src/api/main.ts', { ...baseEnv(taskQueue), PORT: String(port), ...extra });
  await waitForLog(proc, (l) => l.msg === 'api listening', 'api listening');
  return { proc, port, base: `http://127.0.0.1:${port}` };
}

async function createAccount(base: string) {
  const res = await new HttpClient(base, ADMIN_TOKEN).post('/accounts', { name: 'Shutdown check' });
  expect(res.status).toBe(201);
  return {
    id: res.body.id as string,
    apiKey: res.body.apiKey as string,
    client: new HttpClient(base, res.body.apiKey),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const procs: Proc[] = [];
afterAll(() => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
});

describe('npm run api', () => {
  test('SIGTERM: new connections are refused, an in-flight request completes, pools close, exit 0', async () => {
    const queue = `shutdown-api-${uniq()}`;
    const { proc, port, base } = await startApiProcess(queue, { SHUTDOWN_GRACE_SECONDS: '10' });
    procs.push(proc);
    const acct = await createAccount(base);

    // A request that is still arriving when the signal comes, on a kept-alive connection.
    const agent = new http.Agent({ keepAlive: true });
    const eventId = `slow-${uniq()}`;
    const requestId = `req-shutdown-${uniq()}`;
    const data = Buffer.from(
      JSON.stringify({ id: eventId, name: 'job.created', payload: { job: { number: 'J-1' } } }),
    );
    const req = http.request(`${base}/events`, {
      method: 'POST',
      agent,
      headers: {
        Authorization: `Bearer ${acct.apiKey}`,
        'Content-Type': 'application/json',
        'Content-Length': data.length,
        'X-Request-Id': requestId,
      },
    });
    const response = new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: any }>(
      (resolve, reject) => {
        req.on('error', reject);
        req.on('response', (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () =>
            resolve({ status: res.statusCode!, headers: res.headers, body: JSON.parse(text) }),
          );
        });
      },
    );
    req.write(data.subarray(0, 10));
    await sleep(300);

    const signalledAt = Date.now();
    proc.child.kill('SIGTERM');
    await waitForLog(proc, (l) => l.msg === 'api draining', 'api draining', 5_000);

    // Stopped accepting: a new connection is refused.
    const refused = await new Promise<string>((resolve) => {
      http
        .get(`http://127.0.0.1:${port}/healthz`, { agent: false }, () => resolve('answered'))
        .on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
    expect(refused).toBe('ECONNREFUSED');

    // The rest of the in-flight request arrives a second later, and it is answered.
    await sleep(1000);
    req.end(data.subarray(10));
    const res = await response;
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ eventId, workflowId: `event-${acct.id}-${eventId}` });
    expect(res.headers['x-request-id']).toBe(requestId);

    expect(await proc.exited).toBe(0);
    // Drained promptly even though the client keeps its connection open.
    expect(Date.now() - signalledAt).toBeLessThan(8_000);
    agent.destroy();
    expect(proc.lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['api draining', 'api stopped']));

    // The accepted event did start its workflow.
    const connection = await Connection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS! });
    try {
      const client = new Client({ connection });
      const handle = client.workflow.getHandle(`event-${acct.id}-${eventId}`);
      expect((await handle.describe()).taskQueue).toBe(queue);
      await handle.terminate('test cleanup');
    } finally {
      await connection.close();
    }

    // Logs: JSON lines; the request id on the request's line; the API key never written.
    expect(proc.lines.filter((l) => 'notJson' in l)).toEqual([]);
    const line = proc.lines.find((l) => l.req?.id === requestId);
    expect(line).toBeDefined();
    expect(line!.req.headers.authorization).toBe('[redacted]');
    expect(proc.output()).not.toContain(acct.apiKey);
  }, 90_000);
});

describe('npm run worker', () => {
  test('SIGTERM: an in-flight delivery finishes and reports, then exit 0; no second delivery', async () => {
    const queue = `shutdown-worker-${uniq()}`;
    // A webhook receiver that answers after 3 seconds.
    const received: { path: string; at: number }[] = [];
    const receiver = http.createServer((req, res) => {
      received.push({ path: req.url ?? '/', at: Date.now() });
      req.resume();
      setTimeout(() => res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok'), 3_000);
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/slow-${uniq()}`;

    const api = await startApiProcess(queue);
    procs.push(api.proc);
    const workerEnv = {
      ...baseEnv(queue),
      SHUTDOWN_GRACE_SECONDS: '15',
      LOG_LEVEL: 'debug',
    };
    const worker = start('src/worker/main.ts', workerEnv);
    procs.push(worker);
    await waitForLog(worker, (l) => l.msg === 'worker started', 'worker started', 90_000);

    const acct = await createAccount(api.base);
    const rule = await acct.client.post('/rules', {
      name: 'Slow hook',
      trigger: { eventName: 'job.created' },
      delay: { value: 0, unit: 'seconds' },
      actions: [{ type: 'webhook', params: { url: hook, payload: { job: '{{job.number}}' } } }],
    });
    expect({ status: rule.status, body: rule.body }).toMatchObject({ status: 201 });
    const eventId = `ev-${uniq()}`;
    expect(
      (
        await acct.client.post('/events', {
          id: eventId,
          name: 'job.created',
          payload: { job: { number: 'J-2' } },
        })
      ).status,
    ).toBe(202);
    const runId = `run-${rule.body.id}-${eventId}`;

    // The delivery is in flight: the receiver has the request and has not answered yet.
    await eventually(() => (received.length ? true : undefined), 30_000, 'the webhook request');
    const signalledAt = Date.now();
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    const waited = Date.now() - signalledAt;
    expect(waited).toBeGreaterThan(2_000); // it waited for the receiver's answer
    expect(waited).toBeLessThan(15_000);
    const msgs = worker.lines.map((l) => l.msg);
    expect(msgs).toEqual(
      expect.arrayContaining([
        'worker draining: no new tasks, finishing in-flight activities',
        'worker stopped',
      ]),
    );

    // The attempt's result reached Temporal before the worker left.
    const connection = await Connection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS! });
    const client = new Client({ connection });
    try {
      const history = await client.workflow.getHandle(runId).fetchHistory();
      expect(history.events?.some((e) => e.activityTaskCompletedEventAttributes)).toBe(true);

      // A new worker finishes the run; the webhook was delivered once, by the first attempt.
      const second = start('src/worker/main.ts', workerEnv);
      procs.push(second);
      const result = await client.workflow.getHandle(runId).result();
      expect(result).toMatchObject({
        outcome: 'sent',
        actions: [{ type: 'webhook', outcome: 'sent', attempts: 1 }],
      });
      expect(received).toHaveLength(1);
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    } finally {
      await connection.close();
    }

    api.proc.child.kill('SIGTERM');
    expect(await api.proc.exited).toBe(0);
    await new Promise<void>((resolve) => receiver.close(() => resolve()));

    // Logs: JSON lines; activity lines carry the run's ids (from the activity interceptor); no secrets.
    expect(worker.lines.filter((l) => 'notJson' in l)).toEqual([]);
    const completed = worker.lines.find(
      (l) => l.msg === 'Activity completed' && l.activityType === 'sendWebhook',
    );
    expect(completed).toMatchObject({
      accountId: acct.id,
      ruleId: rule.body.id,
      eventId,
      workflowId: runId,
    });
    expect(worker.output()).not.toContain(acct.apiKey);
  }, 150_000);
});
