/**
 * Metrics through real runs: one event fans out to five rules (sent, sent after a retry, conditions not
 * met, a permanent failure, skipped after a delay because the rule was disabled), then the worker's
 * Prometheus endpoint (WORKER_METRICS_PORT: the SDK's `temporal_*` metrics plus the product's, from the
 * interceptors in src/worker) and the API's GET /metrics are read and checked. Last, every metric the
 * alert rules (deploy/prometheus) and the Grafana dashboard (deploy/grafana) query is found in them.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import YAML from 'yaml';
import { startApi } from '../../src/api/server';
import { createLogger } from '../../src/logger';
import { METRICS } from '../../src/worker/interceptors';
import { freePort } from '../helpers/ports';
import { eventually, HttpClient, startStack, type AccountClient, type Stack } from '../helpers/stack';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text format → samples. */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

/** Sum of a metric's samples whose labels include `labels`. */
function total(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

let stack: Stack;
let metricsPort: number;
let receiver: http.Server;
let hookBase: string;
const hits: Record<string, number> = {};

beforeAll(async () => {
  // The worker's workflow interceptors are baked into the bundle: the bundle must be built with them.
  const bundle = readFileSync(process.env.TEST_WORKFLOW_BUNDLE!, 'utf8');
  if (!bundle.includes(METRICS.ruleRuns)) {
    throw new Error(
      'the test workflow bundle has no workflow interceptors: test/global-setup.ts must bundle with ' +
        '`workflowBundleOptions()` from src/worker/bundle.ts',
    );
  }
  metricsPort = await freePort();
  stack = await startStack({ WORKER_METRICS_PORT: String(metricsPort) });

  // /ok answers 200; /bad 400 (permanent); /flaky 503 once, then 200.
  receiver = http.createServer((req, res) => {
    const p = req.url ?? '/';
    hits[p] = (hits[p] ?? 0) + 1;
    req.resume();
    const status = p.startsWith('/bad') ? 400 : p.startsWith('/flaky') && hits[p] === 1 ? 503 : 200;
    res.writeHead(status, { 'Content-Type': 'text/plain' }).end(status === 200 ? 'ok' : 'no');
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  hookBase = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await stack?.stop();
  await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
});

async function scrapeWorker(): Promise<Sample[]> {
  const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).catch((err: Error) => {
    throw new Error(
      `no worker metrics on WORKER_METRICS_PORT ${metricsPort} (${err.message}): startStack() must install the ` +
        'Temporal Runtime with `installRuntime(config, …)` from src/worker/worker.ts',
    );
  });
  expect(res.status).toBe(200);
  const queue = stack.config.TEMPORAL_TASK_QUEUE;
  // The SDK labels task_queue, the product's metrics taskQueue: keep this file's queue only.
  return parseMetrics(await res.text()).filter(
    (s) => (s.labels.taskQueue ?? s.labels.task_queue ?? queue) === queue,
  );
}

function rule(name: string, actions: unknown[], extra: Record<string, unknown> = {}) {
  return {
    name,
    trigger: { eventName: 'job.done' },
    delay: { value: 0, unit: 'seconds' },
    actions,
    ...extra,
  };
}
const webhook = (path: string) => ({
  type: 'webhook',
  params: { url: `${hookBase}${path}`, payload: { n: '{{job.number}}' } },
});

async function createRule(acct: AccountClient, body: unknown): Promise<string> {
  const res = await acct.post('/rules', body);
  expect({ status: res.status, body: res.body }).toMatchObject({ status: 201 });
  return res.body.id;
}

test('rule runs, deliveries, attempts, latency and timer lateness are counted from real runs', async () => {
  const acct = await stack.account();
  const tag = Math.random().toString(36).slice(2, 8);
  // An opted-out recipient: the action ends suppressed, the run is still sent.
  expect(
    (await acct.post('/suppressions', { channel: 'email', address: 'opted-out@example.com' })).status,
  ).toBe(201);
  const sent = await createRule(
    acct,
    rule('SMS, webhook and a suppressed email', [
      { type: 'sms', params: { recipient: '+15555550100', message: 'Job {{job.number}} done' } },
      webhook(`/ok-${tag}`),
      { type: 'email', params: { recipient: 'opted-out@example.com', subject: 'Done', text: 'Thanks' } },
    ]),
  );
  const retried = await createRule(acct, rule('Flaky webhook', [webhook(`/flaky-${tag}`)]));
  const notMet = await createRule(
    acct,
    rule('Only cancelled jobs', [webhook(`/never-${tag}`)], {
      conditions: { all: [{ fact: 'job', path: '$.status', operator: 'equal', value: 'Cancelled' }] },
    }),
  );
  const failed = await createRule(acct, rule('Refused webhook', [webhook(`/bad-${tag}`)]));
  const skipped = await createRule(
    acct,
    rule('Disabled while waiting', [webhook(`/later-${tag}`)], { delay: { value: 6, unit: 'seconds' } }),
  );

  const eventId = `m-${tag}`;
  const res = await acct.post('/events', {
    id: eventId,
    name: 'job.done',
    payload: { job: { number: 'J-9', status: 'Done' } },
  });
  expect(res.status).toBe(202);
  // Disabled once its run is sleeping: the run wakes, re-reads the rule and ends skipped.
  await eventually(
    () => stack.temporal.workflow.getHandle(`run-${skipped}-${eventId}`).describe(),
    10_000,
    'the delayed run',
  );
  expect((await acct.patch(`/rules/${skipped}`, { enabled: false })).status).toBe(200);

  // A run's outcome once it has closed (a failed run's result() throws).
  const waitForRun = (ruleId: string) =>
    eventually(
      async () => {
        const handle = stack.temporal.workflow.getHandle(`run-${ruleId}-${eventId}`);
        if ((await handle.describe()).status.name === 'RUNNING') return undefined;
        return handle.result().then(
          (r: { outcome: string }) => r.outcome,
          () => 'failed',
        );
      },
      30_000,
      `run of ${ruleId}`,
    );
  expect(await Promise.all([sent, retried, notMet, failed, skipped].map(waitForRun))).toEqual([
    'sent',
    'sent',
    'conditions_not_met',
    'failed',
    'skipped',
  ]);

  // The SDK exports on scrape; the last workflow task's metrics are there a moment after the result.
  const samples = await eventually(
    async () => {
      const s = await scrapeWorker();
      return total(s, METRICS.ruleRuns) >= 5 ? s : undefined;
    },
    10_000,
    'five rule runs in the worker metrics',
  );

  expect({
    sent: total(samples, METRICS.ruleRuns, { outcome: 'sent' }),
    conditions_not_met: total(samples, METRICS.ruleRuns, { outcome: 'conditions_not_met' }),
    failed: total(samples, METRICS.ruleRuns, { outcome: 'failed' }),
    skipped: total(samples, METRICS.ruleRuns, { outcome: 'skipped' }),
  }).toEqual({ sent: 2, conditions_not_met: 1, failed: 1, skipped: 1 });
  // Labelled by workflow type (and namespace, task queue) by the SDK.
  expect(samples.find((s) => s.name === METRICS.ruleRuns)?.labels.workflowType).toBe('ruleRunWorkflow');

  expect({
    smsOutbox: total(samples, METRICS.deliveries, { channel: 'sms', outcome: 'outbox' }),
    webhookSent: total(samples, METRICS.deliveries, { channel: 'webhook', outcome: 'sent' }),
    webhookFailed: total(samples, METRICS.deliveries, { channel: 'webhook', outcome: 'failed' }),
    emailSuppressed: total(samples, METRICS.deliveries, { channel: 'email', outcome: 'suppressed' }),
    all: total(samples, METRICS.deliveries),
  }).toEqual({ smsOutbox: 1, webhookSent: 2, webhookFailed: 1, emailSuppressed: 1, all: 5 });

  // Attempts count retries: the flaky webhook took two.
  expect({
    sms: total(samples, METRICS.deliveryAttempts, { channel: 'sms' }),
    webhook: total(samples, METRICS.deliveryAttempts, { channel: 'webhook' }),
  }).toEqual({ sms: 1, webhook: 4 });
  expect(hits[`/flaky-${tag}`]).toBe(2);

  // Latency from ingest to delivery, per successful delivery; the retried one waited out its backoff.
  const latency = `${METRICS.eventToDelivery}`;
  expect(total(samples, `${latency}_count`, { channel: 'webhook' })).toBe(2);
  expect(total(samples, `${latency}_count`, { channel: 'sms' })).toBe(1);
  expect(total(samples, `${latency}_sum`, { channel: 'webhook' })).toBeGreaterThan(0.9);
  expect(total(samples, `${latency}_bucket`, { channel: 'sms', le: '+Inf' })).toBe(1);
  expect(total(samples, `${latency}_count`, { channel: 'email' })).toBe(0);

  // One durable sleep fired (the skipped run's 6 seconds); lateness is small on an idle server.
  expect(total(samples, `${METRICS.timerLateness}_count`)).toBe(1);
  expect(total(samples, `${METRICS.timerLateness}_sum`)).toBeLessThan(5);

  // The SDK's own worker metrics are on the same endpoint.
  expect(
    total(samples, 'temporal_workflow_completed', { workflow_type: 'ruleRunWorkflow' }),
  ).toBeGreaterThanOrEqual(4);
  expect(samples.some((s) => s.name === 'temporal_worker_task_slots_available')).toBe(true);
  expect(samples.some((s) => s.name.startsWith('temporal_activity_execution_latency'))).toBe(true);
}, 90_000);

test('GET /metrics on the API: ingest and HTTP metrics, and the worker’s when it is given their URL', async () => {
  const acct = await stack.account();
  expect((await acct.post('/events', { name: 'job.other', payload: {} })).status).toBe(202);
  const api = parseMetrics((await stack.anonymous.get('/metrics')).body);
  expect(total(api, 'events_ingested_total', { outcome: 'accepted' })).toBeGreaterThanOrEqual(1);
  expect(
    total(api, 'http_request_duration_seconds_count', { method: 'POST', route: '/events' }),
  ).toBeGreaterThanOrEqual(1);
  expect(api.some((s) => s.name === 'process_resident_memory_bytes')).toBe(true);

  // How `npm start` shows both processes on one endpoint: the API appends the worker's metrics.
  const combined = await startApi({
    config: stack.config,
    db: stack.db,
    log: createLogger('silent', 'test'),
    port: 0,
    extraMetricsUrls: [`http://127.0.0.1:${metricsPort}/metrics`],
  });
  try {
    const text = (await new HttpClient(combined.url).get('/metrics')).body as string;
    const names = new Set(parseMetrics(text).map((s) => s.name));
    for (const name of [
      'events_ingested_total',
      METRICS.ruleRuns,
      METRICS.deliveries,
      'temporal_workflow_completed',
    ])
      expect(names).toContain(name);
  } finally {
    await combined.stop();
  }
});

/** The metric names a PromQL expression reads (label matchers, ranges, functions and keywords dropped). */
function metricsIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const keywords = new Set(['and', 'or', 'unless', 'bool', 'offset']);
  return [...bare.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)]
    .filter((m) => !m[2] && !keywords.has(m[1]))
    .map((m) => m[1]);
}

/** Every series name an exposition offers, declared (`# TYPE`, even before a first sample) or sampled. */
function exported(text: string): Set<string> {
  const names = new Set(parseMetrics(text).map((s) => s.name));
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)/gm)) {
    names.add(name);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
  }
  return names;
}

test('the alert rules and the Grafana dashboard query only metrics the API and the worker export', async () => {
  const root = path.resolve(__dirname, '../..');
  const rules = YAML.parse(readFileSync(path.join(root, 'deploy/prometheus/alerts.yml'), 'utf8')) as {
    groups: { rules: { alert: string; expr: string }[] }[];
  };
  const dashboard = JSON.parse(
    readFileSync(path.join(root, 'deploy/grafana/dashboards/crm.json'), 'utf8'),
  ) as {
    panels: { title: string; targets?: { expr: string }[] }[];
  };
  const queries = [
    ...rules.groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr }))),
    ...dashboard.panels.flatMap((p) =>
      (p.targets ?? []).map((t) => ({ where: `panel ${p.title}`, expr: t.expr })),
    ),
  ];
  expect(queries.length).toBeGreaterThan(20);

  // A call to Temporal that fails, through the worker's runtime, as an unreachable frontend would.
  const connection = await NativeConnection.connect({ address: stack.config.TEMPORAL_ADDRESS! });
  await connection.workflowService
    .describeNamespace({ namespace: `missing-${Date.now()}` })
    .catch(() => undefined);
  await connection.close();

  const worker = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const api = (await stack.anonymous.get('/metrics')).body as string;
  // `up` is the series Prometheus itself writes for every scrape target.
  const known = new Set([...exported(worker), ...exported(api), 'up']);
  const unknown = queries.flatMap((q) =>
    metricsIn(q.expr)
      .filter((n) => !known.has(n))
      .map((n) => `${q.where}: ${n}`),
  );
  expect(unknown).toEqual([]);
  // The check sees the metrics: the extractor finds the SDK's and the product's names.
  const used = new Set(queries.flatMap((q) => metricsIn(q.expr)));
  for (const name of [
    'rule_runs_total',
    'temporal_workflow_task_schedule_to_start_latency_bucket',
    'http_request_duration_seconds_count',
  ])
    expect(used).toContain(name);
});
