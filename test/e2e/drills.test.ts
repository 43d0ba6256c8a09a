/**
 * The CI-sized fault drills (the full ones are `npm run drill`, see docs/reliability.md): a worker
 * process SIGKILLed while runs sleep, a webhook failing 503 three times, 200 events with 20 distinct ids
 * at once, and the corpus of bad requests. The API runs in this process on the test servers; the
 * worker is a process of its own (bench/lib/worker-main.ts, the product's createWorker with the test
 * bundle) so it can be killed outright.
 */
import {
  badRequestsDrill,
  duplicateEventsDrill,
  flakyWebhookDrill,
  workerKillDrill,
  type DrillEnv,
} from '../../bench/lib/drills';
import { spawnTs, type Managed } from '../../bench/lib/procs';
import { Receiver } from '../../bench/lib/receiver';
import type { Account } from '../../bench/lib/stack';
import { http } from '../../bench/lib/util';
import { startStack, type Stack } from '../helpers/stack';

let stack: Stack;
let receiver: Receiver;
let worker: Managed | undefined;
let env: DrillEnv;
const lines: string[] = [];

async function startWorker(): Promise<void> {
  const w = spawnTs(
    'worker',
    'bench/lib/worker-main.ts',
    {
      DATABASE_URL: process.env.TEST_DATABASE_URL,
      TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS,
      TEMPORAL_TASK_QUEUE: stack.config.TEMPORAL_TASK_QUEUE,
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      LOG_LEVEL: 'warn',
      BENCH_WORKFLOW_BUNDLE: process.env.TEST_WORKFLOW_BUNDLE,
      // The stack's API encrypts what it starts: the worker needs the same keys.
      PAYLOAD_ENCRYPTION_KEYS: process.env.TEST_PAYLOAD_ENCRYPTION_KEYS,
    },
    ['product'],
  );
  await w.waitForOutput(/worker ready/, 60_000);
  worker = w;
}

beforeAll(async () => {
  stack = await startStack({}, { worker: false });
  receiver = await Receiver.start();
  env = {
    apiUrl: stack.url,
    adminToken: stack.adminToken,
    client: stack.temporal,
    receiver,
    async createAccount(name) {
      const r = await http('POST', `${stack.url}/accounts`, { token: stack.adminToken, body: { name } });
      if (r.status !== 201) throw new Error(`POST /accounts ${r.status}`);
      return r.body as Account;
    },
    async createRule(account, body) {
      const r = await http('POST', `${stack.url}/rules`, { token: account.apiKey, body });
      if (r.status !== 201) throw new Error(`POST /rules ${r.status} ${JSON.stringify(r.body)}`);
      return r.body as { id: string };
    },
    worker: {
      kill: () => worker?.signal('SIGKILL'),
      start: startWorker,
      running: () => !!worker && !worker.exited(),
    },
    log: (m) => lines.push(m),
  };
  await startWorker();
}, 120_000);

afterAll(async () => {
  await worker?.stop(15_000);
  await receiver?.stop();
  await stack?.stop();
});

test('drill 1: a worker SIGKILLed while 30 runs sleep delivers every run once after its restart', async () => {
  const r = await workerKillDrill(env, { count: 30, delaySeconds: 3, downMs: 3000 });
  // On failure the received object shows the notes (when the kill happened, what arrived before it).
  expect(r).toMatchObject({ sent: 30, delivered: 30, duplicated: 0, ok: true });
}, 120_000);

test('drill 5: a webhook answering 503 three times is delivered once, on the fourth attempt', async () => {
  const r = await flakyWebhookDrill(env, { count: 3 });
  expect(r.notes).toContain('attempts per key: 4 (expected 4)');
  expect(r).toMatchObject({ delivered: 3, duplicated: 0, ok: true });
}, 90_000);

test('drill 6: 200 concurrent events with 20 distinct ids make 20 runs and 20 deliveries', async () => {
  const r = await duplicateEventsDrill(env, { count: 200, distinct: 20 });
  expect(r.notes[0]).toMatch(/20× 202, 180× 200; rule runs in Temporal: 20$/);
  expect(r).toMatchObject({ delivered: 20, duplicated: 0, ok: true });
}, 90_000);

test('drill 7: every bad request is a 4xx with an error code, none a 5xx, and the API stays healthy', async () => {
  const r = await badRequestsDrill(env);
  expect(r.sent).toBeGreaterThanOrEqual(300);
  expect(r.failures).toEqual([]);
  expect(r.ok).toBe(true);
}, 90_000);
