/**
 * `npm run drill -- --cluster [--ci]`: the fault drills on the cluster topology (src/dev/cluster.ts),
 * each while runs sleep and events arrive (bench/lib/cluster-drills.ts): kill -9 of the history, matching
 * and frontend services, of one of the two workers and of PostgreSQL; a rolling restart of both workers;
 * a deploy of a worker build with a patched() workflow change.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { generateEncryptionKeys } from '../src/codec';
import { Cluster, freePort } from '../src/dev/cluster';
import { sessionNice, setSessionNice } from '../src/dev/cpu-weight';
import { workflowBundleOptions } from '../src/worker/bundle';
import {
  CLUSTER_DRILL_SIZES,
  clusterDrill,
  deployWorkers,
  killPostgres,
  killTemporalService,
  killWorker,
  rollingRestart,
  runsOnNewBuild,
  type Fault,
} from './lib/cluster-drills';
import type { DrillResult } from './lib/drills';
import { Receiver } from './lib/receiver';
import { bundle } from './lib/stack';
import { log } from './lib/util';

const HARNESS_NICE = -10;
const quiet = { info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} };

export async function runClusterDrills(ci: boolean, want: (n: number) => boolean): Promise<DrillResult[]> {
  const size = CLUSTER_DRILL_SIZES[ci ? 'ci' : 'full'];
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'crm-cluster-drill-'));
  const receiver = await Receiver.start();
  const adminToken = `cluster-drill-${Date.now()}-token`;
  const worker = (file: string) => ({
    entry: 'bench/lib/worker-main.ts',
    args: ['product'],
    env: { BENCH_WORKFLOW_BUNDLE: file },
  });
  const [current, next] = await Promise.all([
    bundle('product', path.join(dataDir, 'workflows.js')),
    bundleWorkflowCode({
      ...workflowBundleOptions(),
      workflowsPath: require.resolve('./lib/deploy-workflows'),
      logger: quiet,
    }).then(({ code }) => {
      const file = path.join(dataDir, 'workflows-next.js');
      writeFileSync(file, code);
      return file;
    }),
  ]);
  const t0 = Date.now();
  const cluster = await Cluster.start({
    dataDir,
    postgresPort: await freePort(),
    frontendPort: await freePort(),
    apiPort: await freePort(),
    namespace: 'default',
    retentionSeconds: 30 * 86_400,
    workers: 2,
    worker: worker(current),
    appEnv: {
      ADMIN_TOKEN: adminToken,
      PAYLOAD_ENCRYPTION_KEYS: generateEncryptionKeys(),
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      // No per-minute quota: the drills count every attempt. The in-flight bound stays at its default,
      // as deployed: it is what keeps a slow Temporal from collecting an ever longer queue of starts.
      EVENTS_RATE_LIMIT_PER_MINUTE: '0',
      LOG_LEVEL: 'warn',
    },
    log,
  }).catch(async (err: unknown) => {
    await receiver.stop();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  });
  // Its processes are detached: stop them on Ctrl-C (or a timeout's SIGTERM) too.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      log(`${sig}: stopping the cluster`);
      void cluster.stop().finally(() => process.exit(130));
    });
  }
  log(`cluster up in ${((Date.now() - t0) / 1000).toFixed(1)} s (${dataDir})`);
  // The load generator and the receiver stand in for a CRM and a webhook endpoint on other machines:
  // their session gets the CPU first (as root), so their own stalls are not counted against the API.
  const ownNice = sessionNice(process.pid);
  const harnessFirst = ownNice !== null && setSessionNice(process.pid, HARNESS_NICE);
  log(
    harnessFirst
      ? `the drill's own session at nice ${HARNESS_NICE} (it stands in for other machines)`
      : `the drill's own session keeps its CPU weight (raising it needs root): its stalls count against the API`,
  );
  const env = { cluster, receiver, adminToken, log };
  const drills: [number, string, Fault][] = [
    [1, 'c1 history SIGKILL', killTemporalService('history')],
    [2, 'c2 matching SIGKILL', killTemporalService('matching')],
    [3, 'c3 frontend SIGKILL', killTemporalService('frontend')],
    [4, 'c4 worker SIGKILL', killWorker],
    [5, 'c5 PostgreSQL SIGKILL', killPostgres],
    [6, 'c6 rolling restart', rollingRestart],
    [7, 'c7 deploy (patched)', deployWorkers(worker(next))],
  ];
  const results: DrillResult[] = [];
  try {
    for (const [n, label, fault] of drills) {
      if (!want(n)) continue;
      const r = await clusterDrill(env, label, size, fault);
      if (n === 7) {
        // The new build ran the new path for new runs, and the old one's sleeping runs replayed on it.
        const { runs, onNew } = await runsOnNewBuild(cluster, r.ruleId);
        r.notes.push(`${onNew} of ${runs} runs took the patched path (started after the deploy)`);
        r.ok &&= onNew > 0 && onNew < runs;
      }
      log(
        `${r.ok ? 'PASS' : 'FAIL'} drill ${r.drill}: sent ${r.sent}, delivered ${r.delivered}, duplicated ${r.duplicated}`,
      );
      for (const note of r.notes) log(`     ${note}`);
      results.push(r);
    }
  } finally {
    if (harnessFirst) setSessionNice(process.pid, ownNice);
    await cluster.stop();
    await receiver.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return results;
}
