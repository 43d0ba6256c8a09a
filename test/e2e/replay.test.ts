/**
 * `npm run cli -- replay …` as an operator runs it: the checked-in histories (exported from real runs by
 * scripts/refresh-histories.ts) replay against the current workflow code; a tampered one does not; and
 * histories are fetched from the server by workflow id and by visibility query.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eventually, startStack, type Stack } from '../helpers/stack';

const ROOT = path.resolve(__dirname, '../..');
const HISTORIES = path.join(ROOT, 'test/histories');
const history = (name: string) => path.join(HISTORIES, name);

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI in a process of its own, exactly as `npm run cli -- …` runs it (tsx src/cli/main.ts). */
function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      path.join(ROOT, 'node_modules/.bin/tsx'),
      ['src/cli/main.ts', ...args],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 120_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function startedWorkflowId(file: string): string {
  const h = JSON.parse(readFileSync(file, 'utf8'));
  return h.events[0].workflowExecutionStartedEventAttributes.workflowId;
}

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'replay-test-'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('replay FILE.json', () => {
  test('a checked-in history replays: exit 0', async () => {
    const r = await cli(['replay', history('sent-run.json')]);
    expect(r.stderr).not.toContain('FAILED');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`ok      ${startedWorkflowId(history('sent-run.json'))}`);
    expect(r.stdout).toContain('replayed 1 history: 1 ok, 0 failed');
  });

  test('all checked-in histories (event run, sent, skipped, failed, scheduled tick, suppressed) replay together: exit 0', async () => {
    const files = [
      'event-run.json',
      'sent-run.json',
      'skipped-run.json',
      'failed-run.json',
      'scheduled-tick.json',
      'suppressed-run.json',
    ].map(history);
    const r = await cli(['replay', ...files]);
    expect(r.code).toBe(0);
    for (const f of files) expect(r.stdout).toContain(`ok      ${startedWorkflowId(f)}`);
    expect(r.stdout).toContain('replayed 6 histories: 6 ok, 0 failed');
  });

  test('keyed reminder runs (rescheduled and sent, cancelled while sleeping, cancelled while waiting for the window) replay: exit 0', async () => {
    const files = ['keyed-rescheduled-run.json', 'keyed-cancelled-run.json', 'window-wait-run.json'].map(
      history,
    );
    const r = await cli(['replay', ...files]);
    expect(r.stderr).not.toContain('FAILED');
    expect(r.code).toBe(0);
    for (const f of files) expect(r.stdout).toContain(`ok      ${startedWorkflowId(f)}`);
    expect(r.stdout).toContain('replayed 3 histories: 3 ok, 0 failed');
  });

  test('runs recorded before the local-activity patches (child starts, prepareRun as an activity) still replay: exit 0', async () => {
    const files = ['event-run.json', 'sent-run.json', 'skipped-run.json', 'failed-run.json'].map((f) =>
      history(path.join('before-local-activities', f)),
    );
    const r = await cli(['replay', ...files]);
    expect(r.stderr).not.toContain('FAILED');
    expect(r.code).toBe(0);
    for (const f of files) expect(r.stdout).toContain(`ok      ${startedWorkflowId(f)}`);
    expect(r.stdout).toContain('replayed 4 histories: 4 ok, 0 failed');
  });

  test('runs recorded before the Outcome search attribute (no upsert at their end) still replay: exit 0', async () => {
    const names = [
      'event-run.json',
      'sent-run.json',
      'skipped-run.json',
      'failed-run.json',
      'scheduled-tick.json',
    ];
    const files = names.map((f) => history(path.join('before-outcome', f)));
    const r = await cli(['replay', ...files]);
    expect(r.stderr).not.toContain('FAILED');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('replayed 5 histories: 5 ok, 0 failed');
    // The current ones end by upserting it; the older ones do not.
    const upserted = (file: string) =>
      JSON.parse(readFileSync(file, 'utf8')).events.some(
        (e: any) => e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.Outcome,
      );
    for (const f of ['sent-run.json', 'skipped-run.json', 'failed-run.json', 'scheduled-tick.json'])
      expect([f, upserted(history(f))]).toEqual([f, true]);
    for (const f of files) expect([f, upserted(f)]).toEqual([f, false]);
  });

  test('a tampered history (an activity type changed) fails: non-zero, naming the run and the mismatch', async () => {
    const h = JSON.parse(readFileSync(history('failed-run.json'), 'utf8'));
    const scheduled = h.events.find(
      (e: any) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'sendWebhook',
    );
    expect(scheduled).toBeDefined();
    scheduled.activityTaskScheduledEventAttributes.activityType.name = 'sendEmail';
    const file = path.join(tmp, 'tampered.json');
    writeFileSync(file, JSON.stringify(h, null, 2));

    const r = await cli(['replay', file]);
    expect(r.code).toBe(1);
    const id = startedWorkflowId(history('failed-run.json'));
    expect(r.stderr).toContain(`FAILED  ${id}: nondeterminism:`);
    expect(r.stderr).toMatch(/Activity type of scheduled event 'sendEmail' does not match .*'sendWebhook'/);
    expect(r.stderr).toContain('replayed 1 history: 0 ok, 1 failed');
  });

  test('among several files, the tampered one is named and the others pass', async () => {
    const h = JSON.parse(readFileSync(history('sent-run.json'), 'utf8'));
    const scheduled = h.events.find(
      (e: any) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'sendWebhook',
    );
    expect(scheduled).toBeDefined();
    scheduled.activityTaskScheduledEventAttributes.activityType.name = 'sendSms';
    const file = path.join(tmp, 'tampered-sent.json');
    writeFileSync(file, JSON.stringify(h));
    const r = await cli(['replay', history('skipped-run.json'), file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`ok      ${startedWorkflowId(history('skipped-run.json'))}`);
    expect(r.stderr).toContain(`FAILED  ${startedWorkflowId(history('sent-run.json'))}: nondeterminism:`);
    expect(r.stderr).toContain('replayed 2 histories: 1 ok, 1 failed');
  });

  test('usage errors are exit 2 with a message', async () => {
    const missing = await cli(['replay', path.join(tmp, 'nope.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read');
    const notHistory = path.join(tmp, 'not-history.json');
    writeFileSync(notHistory, '{"hello":"world"}');
    const bad = await cli(['replay', notHistory]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('is not a workflow history');
    const none = await cli(['replay']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('usage:');
  });
});

describe('replay from the server', () => {
  let stack: Stack;
  let env: Record<string, string>;
  beforeAll(async () => {
    stack = await startStack();
    env = {
      TEMPORAL_ADDRESS: stack.config.TEMPORAL_ADDRESS!,
      TEMPORAL_NAMESPACE: stack.config.TEMPORAL_NAMESPACE,
      // The stack encrypts its payloads: replay decrypts them with the same keys.
      PAYLOAD_ENCRYPTION_KEYS: process.env.TEST_PAYLOAD_ENCRYPTION_KEYS!,
    };
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test('--workflow-id and --query replay runs fetched from Temporal', async () => {
    const acct = await stack.account();
    const eventName = `job.replay${Math.random().toString(36).slice(2, 8)}`;
    const created = await acct.post('/rules', {
      name: 'Replay me',
      trigger: { eventName },
      conditions: { all: [{ fact: 'job', path: '$.status', operator: 'equal', value: 'Done' }] },
      actions: [{ type: 'sms', params: { recipient: '+15551234567', message: 'Job {{job.number}} done' } }],
    });
    expect(created.status).toBe(201);
    const rule = created.body;
    const ids: string[] = [];
    for (const [i, status] of ['Done', 'Open'].entries()) {
      const res = await acct.post('/events', {
        id: `r${i}`,
        name: eventName,
        payload: { job: { number: i, status } },
      });
      expect(res.status).toBe(202);
      ids.push(`run-${rule.id}-r${i}`);
    }
    for (const i of [0, 1]) await stack.temporal.workflow.getHandle(`event-${acct.id}-r${i}`).result();
    for (const id of ids) await stack.temporal.workflow.getHandle(id).result();

    const one = await cli(['replay', '--workflow-id', ids[0]], env);
    expect(one.stderr).not.toContain('FAILED');
    expect(one.code).toBe(0);
    expect(one.stdout).toContain(`ok      ${ids[0]}`);

    // Visibility is eventually consistent: wait until both runs are listed.
    await eventually(async () => {
      const n = await stack.temporal.workflow.count(`RuleId='${rule.id}'`);
      return n.count === 2 ? true : undefined;
    });
    const many = await cli(['replay', '--query', `RuleId='${rule.id}'`], env);
    expect(many.code).toBe(0);
    for (const id of ids) expect(many.stdout).toContain(`ok      ${id}`);
    expect(many.stdout).toContain('replayed 2 histories: 2 ok, 0 failed');
  });

  test('an unknown workflow id is a clear error', async () => {
    const r = await cli(['replay', '--workflow-id', 'run-rule_nothing-here'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no workflow run-rule_nothing-here');
  });
});
