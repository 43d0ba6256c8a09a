/**
 * The production topology (src/dev/cluster.ts) for real: PostgreSQL, the Temporal frontend, history,
 * matching and worker services as processes of the pinned server, the API and two worker processes.
 * The schema step is idempotent, the namespace's retention and archival are what TEMPORAL_RETENTION
 * and the cluster say, the CI-sized drills (kill -9 of history, of a worker, of PostgreSQL) deliver
 * every run exactly once, and runs sleeping across a restart of the whole cluster are delivered once.
 * The full drills are `npm run drill -- --cluster` (docs/reliability.md).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import {
  CLUSTER_DRILL_SIZES,
  clusterDrill,
  killPostgres,
  killTemporalService,
  killWorker,
  type ClusterDrillEnv,
} from '../../bench/lib/cluster-drills';
import { sendEvent, tally, webhookRule } from '../../bench/lib/drills';
import { Receiver } from '../../bench/lib/receiver';
import { http, waitFor } from '../../bench/lib/util';
import { loadConfig } from '../../src/config';
import { Cluster, freePort, BEHIND_API_NICE, type ClusterOptions } from '../../src/dev/cluster';
import { setupTemporalSchema } from '../../src/dev/cluster-temporal';
import { sessionNice } from '../../src/dev/cpu-weight';
import { resolveTemporalCli } from '../../src/dev/temporal-bin';
import { TEMPORAL_SERVER_VERSION } from '../../src/dev/versions';

const ROOT = path.resolve(__dirname, '../..');
const MINUTE = 60_000;
const lines: string[] = [];
const log = (m: string) => lines.push(m);

let dataDir: string;
let receiver: Receiver;
let cluster: Cluster | undefined;
let options: ClusterOptions;
const adminToken = `cluster-admin-${Date.now()}-token`;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'crm-cluster-'));
  receiver = await Receiver.start();
  options = {
    dataDir,
    postgresPort: await freePort(),
    frontendPort: await freePort(),
    apiPort: await freePort(),
    namespace: 'crm-cluster',
    retentionSeconds: loadConfig({ TEMPORAL_RETENTION: '45d' }).TEMPORAL_RETENTION,
    workers: 2,
    // The production worker with the test run's prebuilt bundle (webpack at every start would cost ~20 s each).
    worker: {
      entry: 'bench/lib/worker-main.ts',
      args: ['product'],
      env: { BENCH_WORKFLOW_BUNDLE: process.env.TEST_WORKFLOW_BUNDLE },
    },
    appEnv: {
      ADMIN_TOKEN: adminToken,
      PAYLOAD_ENCRYPTION_KEYS: process.env.TEST_PAYLOAD_ENCRYPTION_KEYS,
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      EVENTS_RATE_LIMIT_PER_MINUTE: '0',
      LOG_LEVEL: 'warn',
    },
    log,
  };
}, MINUTE);

afterAll(async () => {
  await cluster?.stop();
  await receiver?.stop();
  if (lines.length) process.stdout.write(`cluster drills:\n  ${lines.join('\n  ')}\n`);
  rmSync(dataDir, { recursive: true, force: true });
}, 2 * MINUTE);

const env = (): ClusterDrillEnv => ({ cluster: cluster!, receiver, adminToken, log });

async function schemaHistory(port: number): Promise<number[]> {
  const counts: number[] = [];
  for (const db of ['temporal', 'temporal_visibility']) {
    const c = new PgClient({ connectionString: `postgres://postgres:postgres@127.0.0.1:${port}/${db}` });
    await c.connect();
    counts.push(Number((await c.query('SELECT count(*) AS n FROM schema_update_history')).rows[0].n));
    await c.end();
  }
  return counts;
}

test('compose runs the pinned Temporal version', () => {
  const compose = readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
  const tags = [
    ...compose.matchAll(/temporalio\/(?:server|admin-tools):\$\{TEMPORAL_VERSION:-([^}]+)\}/g),
  ].map((m) => m[1]);
  expect(tags.length).toBeGreaterThanOrEqual(2);
  expect(new Set(tags)).toEqual(new Set([TEMPORAL_SERVER_VERSION]));
});

test(
  'the cluster comes up; a second schema step changes nothing; retention and archival are set',
  async () => {
    cluster = await Cluster.start(options);
    const before = await schemaHistory(options.postgresPort);
    expect(before.every((n) => n > 1)).toBe(true);
    const out = await setupTemporalSchema(options.postgresPort, cluster.bins);
    expect(out).toContain('temporal schemas are up to date');
    expect(await schemaHistory(options.postgresPort)).toEqual(before);

    const describe = JSON.parse(
      execFileSync(
        resolveTemporalCli(),
        [
          'operator',
          'namespace',
          'describe',
          '--address',
          cluster.address,
          '--namespace',
          options.namespace,
          '-o',
          'json',
        ],
        { encoding: 'utf8' },
      ),
    );
    expect(describe.config.workflowExecutionRetentionTtl).toBe(`${45 * 86_400}s`);
    expect(describe.config.historyArchivalState).toBe('ARCHIVAL_STATE_ENABLED');
    expect(describe.config.historyArchivalUri).toBe(cluster.archiveUri);

    // Four services, two workers, the API: each a process of its own.
    const pids = [cluster.postgres, ...Object.values(cluster.temporal), cluster.api!, ...cluster.workers].map(
      (p) => p.pid,
    );
    expect(new Set(pids).size).toBe(8);
    expect((await http('GET', `${cluster.apiUrl}/readyz`)).status).toBe(200);

    // Short of CPU, the API is served first: every other process's session is weighed less.
    const nice = (p: { pid: number }) => sessionNice(p.pid) ?? os.getPriority(p.pid);
    expect(nice(cluster.api!)).toBe(0);
    const others = [cluster.postgres, ...Object.values(cluster.temporal), ...cluster.workers];
    expect(others.map(nice)).toEqual(others.map(() => BEHIND_API_NICE));
  },
  4 * MINUTE,
);

for (const [label, fault] of [
  ['history SIGKILL', killTemporalService('history')],
  ['worker SIGKILL', killWorker],
  ['PostgreSQL SIGKILL', killPostgres],
] as const) {
  test(
    `${label} while runs sleep and events arrive: every run delivered once, only clear 503s`,
    async () => {
      const r = await clusterDrill(env(), `cluster ${label}`, CLUSTER_DRILL_SIZES.ci, fault);
      log(`${r.ok ? 'PASS' : 'FAIL'} ${r.drill}: ${r.notes.join(' | ')}`);
      expect({ ok: r.ok, notes: r.notes }).toEqual({ ok: true, notes: r.notes });
      expect(r.delivered).toBe(r.sent);
      expect(r.duplicated).toBe(0);
    },
    3 * MINUTE,
  );
}

test(
  'runs sleeping across a restart of the whole cluster are delivered once',
  async () => {
    const c = cluster!;
    const a = await http('POST', `${c.apiUrl}/accounts`, {
      token: adminToken,
      body: { name: 'cluster restart' },
    });
    const account = a.body;
    const rule = await http('POST', `${c.apiUrl}/rules`, {
      token: account.apiKey,
      body: webhookRule('cluster restart', 'drill.restart', receiver.url('/restart'), 15),
    });
    expect(rule.status).toBe(201);
    const n = 30;
    for (let i = 0; i < n; i++)
      await sendEvent({ apiUrl: c.apiUrl! }, account, 'drill.restart', `restart-${i}`, i);
    expect(tally(receiver, rule.body.id).delivered).toBe(0);
    await c.stop();
    cluster = undefined;
    cluster = await Cluster.start(options);
    await waitFor(
      'deliveries',
      () => (tally(receiver, rule.body.id).delivered >= n ? true : undefined),
      90_000,
      250,
    );
    await new Promise((r) => setTimeout(r, 3000));
    const t = tally(receiver, rule.body.id);
    expect({ delivered: t.delivered, duplicated: t.duplicated }).toEqual({ delivered: n, duplicated: [] });
    // Closed runs' histories are archived (filestore) as they close, to outlive retention.
    const archived = readdirSync(new URL(cluster.archiveUri).pathname).filter((f) => f.endsWith('.history'));
    expect(archived.length).toBeGreaterThanOrEqual(n);
  },
  4 * MINUTE,
);
