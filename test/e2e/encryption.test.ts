/**
 * Encrypted history on the real stack: a run's exported history (`temporal workflow show -o json`, as an
 * operator or an attacker with the dev server's files sees it) holds no trace of its webhook URL, its
 * recipients or its payload values; the API's timeline still reads it, also after a key rotation; the
 * CLI replays it with the keys; and the codec endpoint the Web UI uses answers only operators.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateEncryptionKeys } from '../../src/codec';
import { startReceiver } from '../helpers/receiver';
import { startStack, HttpClient, type Stack } from '../helpers/stack';

const ROOT = path.resolve(__dirname, '../..');

function run(bin: string, args: string[], env: Record<string, string | undefined> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      bin,
      args,
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 120_000, maxBuffer: 64 << 20 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}

/** Every string in the JSON, plus the base64-decoded text of each (payload data is base64 of JSON). */
function allText(value: unknown): string {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === 'string') {
      out.push(v);
      if (/^[A-Za-z0-9+/]+={0,2}$/.test(v)) out.push(Buffer.from(v, 'base64').toString('latin1'));
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(value);
  return out.join('\n');
}

const marker = `mk${Math.random().toString(36).slice(2, 10)}`;
// Ids and event names are search attributes (readable by design): they must not carry the marker.
const id = Math.random().toString(36).slice(2, 10);
const phone = `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
let stack: Stack;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let acct: Awaited<ReturnType<Stack['account']>>;
let runId: string;
let exported: string;

beforeAll(async () => {
  stack = await startStack();
  receiver = await startReceiver();
  acct = await stack.account();
  const eventName = `job.secret${id}`;
  const created = await acct.post('/rules', {
    name: 'Secret webhook',
    trigger: { eventName },
    actions: [
      {
        type: 'webhook',
        params: {
          url: `${receiver.url}/hooks/${marker}-path?token=${marker}-query`,
          payload: { note: '{{job.note}}' },
        },
      },
      { type: 'sms', params: { recipient: phone, message: 'Job {{job.number}} done' } },
    ],
  });
  expect(created.status).toBe(201);
  const sent = await acct.post('/events', {
    id: `ev-${id}`,
    name: eventName,
    payload: { job: { number: 7, note: `${marker}-payload` } },
  });
  expect(sent.status).toBe(202);
  runId = `run-${created.body.id}-ev-${id}`;
  const handle = stack.temporal.workflow.getHandle(runId);
  for (let i = 0; i < 150; i++) {
    if (
      await handle.describe().then(
        () => true,
        () => false,
      )
    )
      break;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(await handle.result()).toMatchObject({ outcome: 'sent' });
  expect(receiver.received.some((r) => r.path.includes(`${marker}-path`))).toBe(true);

  const shown = await run(process.env.TEMPORAL_CLI_PATH!, [
    'workflow',
    'show',
    '-w',
    runId,
    '-o',
    'json',
    '--address',
    stack.config.TEMPORAL_ADDRESS!,
    '--namespace',
    stack.config.TEMPORAL_NAMESPACE,
  ]);
  expect(shown.stderr).toBe('');
  expect(shown.code).toBe(0);
  exported = shown.stdout;
}, 120_000);

afterAll(async () => {
  await receiver?.close();
  await stack?.stop();
});

test('the exported history holds no webhook URL, recipient or payload value, but search attributes stay readable', () => {
  const h = JSON.parse(exported);
  expect(h.events.length).toBeGreaterThan(3);
  const text = allText(h);
  expect(text).not.toContain(marker);
  expect(text).not.toContain(phone);
  expect(text).toContain('binary/encrypted');
  // Search attributes are never passed through the codec: visibility queries keep working.
  const started = h.events[0].workflowExecutionStartedEventAttributes;
  expect(allText(started.searchAttributes)).toContain(acct.id);
});

test('a failed attempt naming its recipient: the message is encrypted too, and the timeline reads it', async () => {
  const eventName = `job.bad${id}`;
  const created = await acct.post('/rules', {
    name: 'Bad phone',
    trigger: { eventName },
    actions: [
      {
        type: 'sms',
        params: { recipient: { source: 'fact', fact: 'job', path: '$.phone' }, message: 'hi' },
      },
    ],
  });
  expect(created.status).toBe(201);
  expect(
    (
      await acct.post('/events', {
        id: `bad-${id}`,
        name: eventName,
        payload: { job: { phone: `${marker}-nophone` } },
      })
    ).status,
  ).toBe(202);
  const failedRun = `run-${created.body.id}-bad-${id}`;
  const handle = stack.temporal.workflow.getHandle(failedRun);
  for (let i = 0; i < 150; i++) {
    if (
      await handle.describe().then(
        () => true,
        () => false,
      )
    )
      break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await handle.result().catch(() => undefined);
  const shown = await run(process.env.TEMPORAL_CLI_PATH!, [
    'workflow',
    'show',
    '-w',
    failedRun,
    '-o',
    'json',
    '--address',
    stack.config.TEMPORAL_ADDRESS!,
    '--namespace',
    stack.config.TEMPORAL_NAMESPACE,
  ]);
  expect(shown.code).toBe(0);
  // The recipient is checked when the run prepares (a local activity): the run fails from there.
  expect(shown.stdout).toContain('EVENT_TYPE_WORKFLOW_EXECUTION_FAILED');
  expect(allText(JSON.parse(shown.stdout))).not.toContain(marker);
  const d = await acct.get(`/executions/${failedRun}`);
  expect(d.status).toBe(200);
  expect(d.body.error.message).toContain(`recipient "${marker}-nophone"`);
  const outcome = d.body.timeline.find((e: any) => e.type === 'outcome');
  expect(outcome).toMatchObject({ status: 'failed', message: expect.stringContaining(`${marker}-nophone`) });
});

test('GET /executions/:id still shows the decoded timeline', async () => {
  const d = await acct.get(`/executions/${runId}`);
  expect(d.status).toBe(200);
  expect(d.body.event.payload).toEqual({ job: { number: 7, note: `${marker}-payload` } });
  expect(d.body.result).toMatchObject({ outcome: 'sent' });
  const attempts = d.body.timeline.filter((e: any) => e.type === 'action_attempt');
  expect(attempts).toHaveLength(2);
});

test('after a key rotation (a new key first, the old one kept) the API still reads the run', async () => {
  const rotated = await startStack(
    {
      PAYLOAD_ENCRYPTION_KEYS: `${generateEncryptionKeys(new Date('2031-01-01'))},${process.env.TEST_PAYLOAD_ENCRYPTION_KEYS}`,
    },
    { worker: false },
  );
  try {
    const d = await new HttpClient(rotated.url, acct.apiKey).get(`/executions/${runId}`);
    expect(d.status).toBe(200);
    expect(d.body.event.payload.job.note).toBe(`${marker}-payload`);
  } finally {
    await rotated.stop();
  }
});

test('the CLI replays the encrypted history with the keys (not without), and the old plain ones with them', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'enc-'));
  const file = path.join(dir, 'history.json');
  writeFileSync(file, exported);
  const tsx = path.join(ROOT, 'node_modules/.bin/tsx');
  const ok = await run(tsx, ['src/cli/main.ts', 'replay', file], {
    PAYLOAD_ENCRYPTION_KEYS: process.env.TEST_PAYLOAD_ENCRYPTION_KEYS,
  });
  expect(ok.stderr).not.toContain('FAILED');
  expect(ok.code).toBe(0);
  const without = await run(tsx, ['src/cli/main.ts', 'replay', file], {
    PAYLOAD_ENCRYPTION_KEYS: '',
    DATA_DIR: dir,
  });
  rmSync(dir, { recursive: true, force: true });
  expect(without.code).toBe(1);
  expect(without.stderr).toContain(`FAILED  ${runId}`);

  // The checked-in histories, recorded before encryption, pass the codec unchanged and still replay.
  const plain = ['event-run', 'sent-run', 'failed-run', 'scheduled-tick'].map((f) =>
    path.join(ROOT, 'test/histories', `${f}.json`),
  );
  const old = await run(tsx, ['src/cli/main.ts', 'replay', ...plain], {
    PAYLOAD_ENCRYPTION_KEYS: process.env.TEST_PAYLOAD_ENCRYPTION_KEYS,
  });
  expect(old.stderr).not.toContain('FAILED');
  expect(old.stdout).toContain('replayed 4 histories: 4 ok, 0 failed');
});

describe('the codec endpoint', () => {
  const samplePayload = {
    metadata: { encoding: Buffer.from('json/plain').toString('base64') },
    data: Buffer.from(`"${marker}"`).toString('base64'),
  };

  test('round trip: encode then decode gives the payload back; the encoded one names its key', async () => {
    const admin = new HttpClient(stack.url, stack.adminToken);
    const enc = await admin.post('/codec/encode', { payloads: [samplePayload] });
    expect(enc.status).toBe(200);
    const [encoded] = enc.body.payloads;
    expect(Buffer.from(encoded.metadata.encoding, 'base64').toString()).toBe('binary/encrypted');
    expect(Buffer.from(encoded.metadata['encryption-key-id'], 'base64').toString()).toBe(
      process.env.TEST_PAYLOAD_ENCRYPTION_KEYS!.split(':')[0],
    );
    expect(allText(encoded)).not.toContain(marker);
    const dec = await admin.post('/codec/decode', { payloads: [encoded, samplePayload] });
    expect(dec.status).toBe(200);
    expect(dec.body.payloads).toEqual([samplePayload, samplePayload]);
  });

  test('decodes a payload of the exported history (what the Web UI asks for)', async () => {
    const h = JSON.parse(exported);
    const input = h.events[0].workflowExecutionStartedEventAttributes.input.payloads[0];
    const dec = await new HttpClient(stack.url, stack.adminToken).post('/codec/decode', {
      payloads: [input],
    });
    expect(dec.status).toBe(200);
    expect(Buffer.from(dec.body.payloads[0].data, 'base64').toString()).toContain(`${marker}-payload`);
  });

  test('no token, an account key or a foreign origin: 401; the UI origin from loopback: 200 with CORS', async () => {
    const body = { payloads: [samplePayload] };
    expect((await stack.anonymous.post('/codec/decode', body)).status).toBe(401);
    expect((await new HttpClient(stack.url, acct.apiKey).post('/codec/decode', body)).status).toBe(401);
    const foreign = await stack.anonymous.request('POST', '/codec/decode', body, {
      Origin: 'https://evil.example',
    });
    expect(foreign.status).toBe(401);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();

    const ui = 'http://127.0.0.1:8233';
    const withUi = await startStack({ CODEC_CORS_ORIGINS: ui }, { worker: false });
    try {
      const pre = await withUi.anonymous.request('OPTIONS', '/codec/decode', undefined, {
        Origin: ui,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type,x-namespace',
      });
      expect(pre.status).toBe(204);
      expect(pre.headers.get('access-control-allow-origin')).toBe(ui);
      expect(pre.headers.get('access-control-allow-headers')).toMatch(/X-Namespace/i);
      const res = await withUi.anonymous.request('POST', '/codec/decode', body, {
        Origin: ui,
        'X-Namespace': 'default',
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe(ui);
    } finally {
      await withUi.stop();
    }
  });

  test('bad input is a 400 naming the problem, never a 500', async () => {
    const admin = new HttpClient(stack.url, stack.adminToken);
    const notList = await admin.post('/codec/decode', { payloads: 'x' });
    expect(notList.status).toBe(400);
    expect(notList.body.error.code).toBe('validation_failed');
    const forged = await admin.post('/codec/decode', {
      payloads: [
        {
          metadata: {
            encoding: Buffer.from('binary/encrypted').toString('base64'),
            'encryption-key-id': Buffer.from('nokey').toString('base64'),
          },
          data: Buffer.from('x'.repeat(40)).toString('base64'),
        },
      ],
    });
    expect(forged.status).toBe(400);
    expect(forged.body.error).toMatchObject({
      code: 'codec_failed',
      message: expect.stringContaining('"nokey"'),
    });
  });
});
