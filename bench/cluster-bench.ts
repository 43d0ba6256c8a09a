/**
 * `npm run bench -- --cluster [--quick]`: the pipeline phase (bench/lib/pipeline.ts) on the dev-server
 * stack, then on the cluster topology (src/dev/cluster.ts) with one worker process and with two, in one
 * run, with the CPU every process used during each (utime + stime from /proc: each Temporal service,
 * each worker, the API, PostgreSQL's postmaster and backends, this load generator).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateEncryptionKeys } from '../src/codec';
import { Cluster, freePort } from '../src/dev/cluster';
import { pipelinePhase } from './lib/pipeline';
import { cpuMs, tree } from './lib/procs';
import { Receiver } from './lib/receiver';
import { BenchStack, bundle, type Account } from './lib/stack';
import { closedLoop, http, log, round } from './lib/util';

const rule = (url: string) => ({
  name: 'bench pipeline',
  trigger: { eventName: 'bench.e2e' },
  delay: { value: 0, unit: 'seconds' },
  conditions: { all: [] },
  actions: [{ type: 'webhook', params: { url, payload: { n: '{{job.number}}' } } }],
});

/** CPU ms per named process group since creation; `groups` is re-read at the end (restarts, new workers). */
function cpuMeter(groups: () => Record<string, number[]>): () => Record<string, number> {
  const start = Object.fromEntries(Object.entries(groups()).map(([k, pids]) => [k, cpuMs(pids)]));
  const self0 = process.cpuUsage();
  return () => {
    const out: Record<string, number> = {};
    for (const [k, pids] of Object.entries(groups()))
      out[k] = Math.round(Math.max(0, cpuMs(pids) - (start[k] ?? 0)));
    const self = process.cpuUsage(self0);
    out.loadgen = Math.round((self.user + self.system) / 1000);
    return out;
  };
}

async function setup(apiUrl: string, adminToken: string, receiver: Receiver) {
  const a = await http('POST', `${apiUrl}/accounts`, { token: adminToken, body: { name: 'bench cluster' } });
  if (a.status !== 201) throw new Error(`POST /accounts ${a.status}`);
  const account = a.body as Account;
  const r = await http('POST', `${apiUrl}/rules`, {
    token: account.apiKey,
    body: rule(receiver.url('/pipe')),
  });
  if (r.status !== 201) throw new Error(`POST /rules ${r.status}`);
  return { account, ruleId: (r.body as { id: string }).id };
}

export async function runClusterBench(quick: boolean, out: string): Promise<void> {
  const count = quick ? 100 : 300;
  const concurrency = 32;
  const drainMs = 120_000;
  const nonce = Date.now().toString(36);
  const receiver = await Receiver.start();
  const result: Record<string, unknown> = {
    at: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    cores: os.cpus().length,
    loadBefore: os.loadavg().map((l) => round(l, 2)),
  };
  const phase = async (
    label: string,
    apiUrl: string,
    account: Account,
    ruleId: string,
    meter: () => Record<string, number>,
  ) => {
    // Warm-up: JIT, pools, caches, sticky queues.
    const warm = `warm-${label}-${nonce}`;
    await closedLoop(8, 50, (i) =>
      http('POST', `${apiUrl}/events`, {
        token: account.apiKey,
        body: { id: `${warm}-${i}`, name: 'bench.e2e', payload: { job: { number: i } } },
      }).then(() => undefined),
    );
    await receiver.waitForDelivered((k) => k.includes(warm), 50, drainMs);
    const start = meter();
    const r = await pipelinePhase({
      apiUrl,
      account,
      ruleId,
      eventName: 'bench.e2e',
      receiver,
      count,
      tag: `pipe-${label}-${nonce}`,
      concurrency,
      drainMs,
    });
    const end = meter();
    const cpuMsPerItem = Object.fromEntries(
      Object.entries(end).map(([k, v]) => [k, round((v - (start[k] ?? 0)) / count, 2)]),
    );
    log(`${label}: ${JSON.stringify(r)} cpu ms/item ${JSON.stringify(cpuMsPerItem)}`);
    return { ...r, cpuMsPerItem, load: os.loadavg().map((l) => round(l, 2)) };
  };

  // The dev server, as bench/run.ts runs it.
  const stack = await BenchStack.start({});
  try {
    await stack.startWorker('product');
    const { account, ruleId } = await setup(stack.apiUrl, stack.adminToken, receiver);
    const meter = cpuMeter(() => stack.components());
    result.devServer = await phase('dev', stack.apiUrl, account, ruleId, meter);
  } finally {
    await stack.stop();
  }

  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'crm-cluster-bench-'));
  const adminToken = `cluster-bench-${nonce}-token`;
  const cluster = await Cluster.start({
    dataDir,
    postgresPort: await freePort(),
    frontendPort: await freePort(),
    apiPort: await freePort(),
    namespace: 'default',
    retentionSeconds: 86_400,
    workers: 1,
    worker: {
      entry: 'bench/lib/worker-main.ts',
      args: ['product'],
      env: { BENCH_WORKFLOW_BUNDLE: await bundle('product', path.join(dataDir, 'workflows.js')) },
    },
    appEnv: {
      ADMIN_TOKEN: adminToken,
      PAYLOAD_ENCRYPTION_KEYS: generateEncryptionKeys(),
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      EVENTS_RATE_LIMIT_PER_MINUTE: '0',
      LOG_LEVEL: 'warn',
    },
    log,
  });
  try {
    const groups = () => ({
      ...Object.fromEntries(Object.entries(cluster.temporal).map(([n, s]) => [`temporal-${n}`, tree(s.pid)])),
      postgres: tree(cluster.postgres.pid),
      api: tree(cluster.api!.pid),
      ...Object.fromEntries(cluster.workers.map((w) => [w.spec.name, tree(w.pid)])),
    });
    const { account, ruleId } = await setup(cluster.apiUrl!, adminToken, receiver);
    result.cluster1Worker = await phase('cluster-1w', cluster.apiUrl!, account, ruleId, cpuMeter(groups));
    await cluster.startWorker();
    result.cluster2Workers = await phase('cluster-2w', cluster.apiUrl!, account, ruleId, cpuMeter(groups));
  } finally {
    await cluster.stop();
    await receiver.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  result.loadAfter = os.loadavg().map((l) => round(l, 2));
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  const row = (label: string, r: any) =>
    `${label.padEnd(22)} ${String(r.completionsPerSec).padStart(7)}/s   CPU ms/item ${Object.entries(
      r.cpuMsPerItem,
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`;
  process.stdout.write(
    `\npipeline completions/s (${count} events, concurrency ${concurrency}; load before ${(result.loadBefore as number[]).join(' ')})\n` +
      [
        row('dev server', result.devServer),
        row('cluster, 1 worker', result.cluster1Worker),
        row('cluster, 2 workers', result.cluster2Workers),
      ].join('\n') +
      `\n\nwritten to ${out}\n`,
  );
}
