/**
 * Fault drills on the cluster topology (src/dev/cluster.ts): `npm run drill -- --cluster` runs them
 * full size, test/e2e/cluster.test.ts a CI-sized subset. Each drill, on an account and rule of its own:
 *
 *   1. `sleeping` runs are started and sleep `delaySeconds`;
 *   2. events then arrive at `ratePerSec` for `loadSeconds` (each one a run of the same rule), sent as a
 *      CRM would: retried on any refusal, every attempt's answer and latency recorded;
 *   3. a second into the load the fault is injected (a service kill -9, a rolling restart, a deploy),
 *      and the time until the cluster answers again is measured;
 *   4. every run must be delivered exactly once: no key the receiver answered in time came again, and
 *      the delivery ledger (the deliveries table) holds exactly the keys the receiver saw. A copy the
 *      receiver answered after the sender's deadline is counted apart (Receiver.resentAfterDeadline).
 *
 * During the fault the API may refuse, but only clearly: a 503 (or 429) with an error code, within
 * the attempt timeout. Anything else (a 500, no answer, a hang) fails the drill.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Client as PgClient } from 'pg';
import { WEBHOOK_TIMEOUT_MS } from '../../src/activities/delivery-kit';
import type { Cluster, ProcessSpec } from '../../src/dev/cluster';
import type { TemporalServiceName } from '../../src/dev/cluster-temporal';
import { sendEvent, tally, webhookRule, type DrillResult } from './drills';
import { eventIdOfKey, type Receiver } from './receiver';
import type { Account } from './stack';
import { closedLoop, http, openLoop, sleep, waitFor } from './util';

export interface ClusterDrillSize {
  sleeping: number;
  ratePerSec: number;
  loadSeconds: number;
  delaySeconds: number;
}

export const CLUSTER_DRILL_SIZES: Record<'full' | 'ci', ClusterDrillSize> = {
  full: { sleeping: 200, ratePerSec: 50, loadSeconds: 10, delaySeconds: 30 },
  ci: { sleeping: 40, ratePerSec: 10, loadSeconds: 6, delaySeconds: 10 },
};

/** An attempt slower than this is a hang. */
const ATTEMPT_TIMEOUT_MS = 10_000;

export interface ClusterDrillEnv {
  cluster: Cluster;
  receiver: Receiver;
  adminToken: string;
  log(msg: string): void;
}

/** Injects the fault and resolves once the cluster answers again (the recovery time is measured to then). */
export type Fault = (cluster: Cluster) => Promise<string[] | void>;

const nonce = () => Date.now().toString(36) + Math.random().toString(36).slice(2, 6);

async function createAccountAndRule(env: ClusterDrillEnv, label: string, delaySeconds: number) {
  const api = env.cluster.apiUrl!;
  const a = await http('POST', `${api}/accounts`, { token: env.adminToken, body: { name: label } });
  if (a.status !== 201) throw new Error(`POST /accounts ${a.status} ${JSON.stringify(a.body)}`);
  const account = a.body as Account;
  const path = `/c-${nonce()}`;
  const r = await http('POST', `${api}/rules`, {
    token: account.apiKey,
    body: webhookRule(label, 'drill.cluster', env.receiver.url(path), delaySeconds),
  });
  if (r.status !== 201) throw new Error(`POST /rules ${r.status} ${JSON.stringify(r.body)}`);
  return { account, ruleId: (r.body as { id: string }).id };
}

/** The idempotency keys the ledger recorded for an account. */
async function ledgerKeys(cluster: Cluster, accountId: string): Promise<Set<string>> {
  const db = new PgClient({ connectionString: cluster.databaseUrl });
  await db.connect();
  try {
    const r = await db.query<{ k: string }>(
      'SELECT idempotency_key AS k FROM deliveries WHERE account_id = $1',
      [accountId],
    );
    return new Set(r.rows.map((row) => row.k));
  } finally {
    await db.end();
  }
}

/** Runs one drill: sleeping runs, then load with `fault` injected a second in. */
export async function clusterDrill(
  env: ClusterDrillEnv,
  label: string,
  size: ClusterDrillSize,
  fault: Fault,
): Promise<DrillResult & { recoverySeconds: number; errorRate: number; ruleId: string }> {
  const t0 = Date.now();
  // The load generator and the receiver share this process: its own stalls count against the API's
  // answers, so they are reported beside them.
  const stalls = monitorEventLoopDelay({ resolution: 20 });
  stalls.enable();
  const tag = `cd-${nonce()}`;
  const { account, ruleId } = await createAccountAndRule(env, label, size.delaySeconds);
  const api = { apiUrl: env.cluster.apiUrl! };
  const attempts: { status: number; ms: number; code?: string; at: number }[] = [];
  const send = (i: number) =>
    sendEvent(api, account, 'drill.cluster', `${tag}-${i}`, i, 180_000, {
      timeoutMs: ATTEMPT_TIMEOUT_MS,
      onAttempt: (a) => attempts.push({ ...a, at: Date.now() }),
    }).then(() => undefined);

  await closedLoop(20, size.sleeping, send);
  const loadCount = size.ratePerSec * size.loadSeconds;
  const loadStart = Date.now();
  const load = openLoop(size.ratePerSec, loadCount, (k) => send(size.sleeping + k));
  await sleep(1000);
  const deliveredBefore = tally(env.receiver, ruleId).delivered;
  const faultAt = Date.now();
  const notes = (await fault(env.cluster)) || [];
  const recoverySeconds = (Date.now() - faultAt) / 1000;
  await load;
  const sent = size.sleeping + loadCount;
  env.log(
    `${label}: recovered in ${recoverySeconds.toFixed(1)} s; load sent in ${((Date.now() - loadStart) / 1000).toFixed(1)} s`,
  );
  await waitFor(
    `${sent} deliveries`,
    () => (tally(env.receiver, ruleId).delivered >= sent ? true : undefined),
    120_000 + size.delaySeconds * 1000,
    250,
  ).catch(() => undefined);
  await sleep(3000); // late duplicates
  const t = tally(env.receiver, ruleId);
  const received = new Set(
    [...env.receiver.delivered.keys()].filter((k) => eventIdOfKey(k, ruleId) !== null),
  );
  const ledger = await ledgerKeys(env.cluster, account.id);
  const onlyReceiver = [...received].filter((k) => !ledger.has(k));
  const onlyLedger = [...ledger].filter((k) => !received.has(k));

  const failed = attempts.filter((a) => a.status !== 200 && a.status !== 202);
  const unclear = failed.filter((a) => !((a.status === 503 || a.status === 429) && a.code));
  const byStatus = new Map<string, number>();
  for (const a of failed) {
    const key =
      a.status === 0 ? `no answer in ${ATTEMPT_TIMEOUT_MS / 1000} s` : `${a.status} ${a.code ?? ''}`.trim();
    byStatus.set(key, (byStatus.get(key) ?? 0) + 1);
  }
  const slowest = Math.max(0, ...attempts.map((a) => a.ms));
  // What the API logged for the 500s it answered, if any: the finding to fix.
  const unhandled = (env.cluster.api?.output() ?? '')
    .split('\n')
    .filter((l) => l.includes('unhandled error'))
    .map((l) => {
      try {
        const e = JSON.parse(l).err ?? {};
        return `${e.type ?? ''} ${e.code ?? ''} ${String(e.message ?? '').slice(0, 200)}`.trim();
      } catch {
        return l.slice(0, 200);
      }
    });
  const errorRate = attempts.length ? failed.length / attempts.length : 0;
  stalls.disable();
  const ok =
    t.delivered === sent &&
    t.duplicated.length === 0 &&
    onlyReceiver.length === 0 &&
    onlyLedger.length === 0 &&
    unclear.length === 0;
  return {
    drill: label,
    sent,
    delivered: t.delivered,
    duplicated: t.duplicated.length,
    ok,
    seconds: Math.round((Date.now() - t0) / 100) / 10,
    recoverySeconds: Math.round(recoverySeconds * 10) / 10,
    errorRate,
    ruleId,
    notes: [
      ...notes,
      `${size.sleeping} runs sleeping ${size.delaySeconds} s, ${loadCount} events at ${size.ratePerSec}/s; ${deliveredBefore} delivered at the fault; recovered in ${recoverySeconds.toFixed(1)} s`,
      `API: ${attempts.length} attempts, ${failed.length} refused (${(errorRate * 100).toFixed(1)} %)${byStatus.size ? `: ${[...byStatus].map(([k, n]) => `${n}× ${k}`).join(', ')}` : ''}; slowest answer ${(slowest / 1000).toFixed(1)} s; the drill's own event loop stalled up to ${(stalls.max / 1e6 / 1000).toFixed(1)} s`,
      `ledger ${ledger.size} rows, receiver ${received.size} keys${onlyReceiver.length ? `; ${onlyReceiver.length} received but not in the ledger` : ''}${onlyLedger.length ? `; ${onlyLedger.length} in the ledger but never received` : ''}`,
      ...(t.duplicated.length ? [`duplicated: ${t.duplicated.slice(0, 5).join(', ')}`] : []),
      ...(t.resentAfterDeadline.length
        ? [
            `${t.resentAfterDeadline.length} sent again after the receiver answered past the ${WEBHOOK_TIMEOUT_MS / 1000} s deadline (one Idempotency-Key each; not a duplicate)`,
          ]
        : []),
      ...(unclear.length && unhandled.length
        ? [`API logged: ${[...new Set(unhandled)].slice(0, 3).join(' / ')}`]
        : []),
      ...(unclear.length ? [describeUnclear(unclear, faultAt)] : []),
    ],
  };
}

/** How many attempts got no clear answer, and when (from the fault) they were sent. */
function describeUnclear(
  unclear: { status: number; ms: number; code?: string; at: number }[],
  faultAt: number,
) {
  const sentAt = unclear.map((a) => (a.at - a.ms - faultAt) / 1000);
  const examples = unclear
    .slice(0, 3)
    .map((a) => `${a.status} ${a.code ?? ''} ${a.ms} ms`.replace('  ', ' '));
  return `unclear refusals: ${unclear.length}, sent from +${Math.min(...sentAt).toFixed(1)} s to +${Math.max(...sentAt).toFixed(1)} s after the fault (${examples.join('; ')})`;
}

/** kill -9 of one Temporal service; recovered when the supervisor restarted it and the cluster answers. */
export const killTemporalService =
  (name: TemporalServiceName): Fault =>
  async (cluster) => {
    const s = cluster.temporal[name];
    const starts = s.starts.length;
    const pid = s.pid;
    s.signal('SIGKILL');
    await waitFor(`${name} restarted`, () => (s.starts.length > starts ? true : undefined), 30_000, 50);
    await cluster.waitHealthy(180_000);
    return [`temporal-${name} (pid ${pid}) SIGKILLed; restarted as pid ${s.pid}`];
  };

/** kill -9 of the first worker process; recovered when its replacement polls. */
export const killWorker: Fault = async (cluster) => {
  const w = cluster.workers[0];
  const pid = w.pid;
  const starts = w.starts.length;
  w.signal('SIGKILL');
  await waitFor('worker restarted', () => (w.starts.length > starts ? true : undefined), 30_000, 50);
  await cluster.waitForPoller(w, 180_000);
  return [`worker pid ${pid} SIGKILLed (of ${cluster.workers.length}); restarted as pid ${w.pid}`];
};

/** kill -9 of PostgreSQL (the postmaster and its backends); restarted on the same data dir. */
export const killPostgres: Fault = async (cluster) => {
  const pg = cluster.postgres;
  const pid = pg.pid;
  const starts = pg.starts.length;
  pg.signal('SIGKILL');
  await waitFor('PostgreSQL restarted', () => (pg.starts.length > starts ? true : undefined), 30_000, 50);
  await cluster.waitForPostgres(120_000);
  await cluster.waitHealthy(180_000);
  await waitFor(
    'the API ready',
    async () =>
      (await http('GET', `${cluster.apiUrl}/readyz`).catch(() => null))?.status === 200 ? true : undefined,
    120_000,
    200,
  );
  return [
    `PostgreSQL (pid ${pid}) SIGKILLed with its backends; ${pg.starts.length - starts} start(s) until it came back`,
  ];
};

/** Both workers restarted gracefully, one at a time, each waited for until it polls again. */
export const rollingRestart: Fault = async (cluster) => {
  const notes: string[] = [];
  for (const w of cluster.workers) {
    const t = Date.now();
    await w.restart();
    await cluster.waitForPoller(w, 180_000);
    notes.push(
      `${w.spec.name} restarted (drained, polling again) in ${((Date.now() - t) / 1000).toFixed(1)} s`,
    );
  }
  return notes;
};

/**
 * A deploy: each worker in turn drains and stops, then one running `next` (a build with a patched()
 * workflow change) starts in its place, so one worker serves throughout. Stop first, not surge: with a
 * third worker booting beside the two (on 2 cores) the API got no CPU for up to 10 s and 178 of 878
 * attempts went unanswered (its log: they reached it only in their last 1.5 s); docs/reliability.md.
 */
export const deployWorkers =
  (next: ProcessSpec): Fault =>
  async (cluster) => {
    const notes: string[] = [];
    for (const old of [...cluster.workers]) {
      const t = Date.now();
      await old.stop();
      cluster.workers.splice(cluster.workers.indexOf(old), 1);
      const fresh = await cluster.startWorker(next);
      notes.push(
        `${old.spec.name} drained and replaced by ${fresh.spec.name} (new build) in ${((Date.now() - t) / 1000).toFixed(1)} s`,
      );
    }
    return notes;
  };

/** Runs of a rule whose memo names the deployed build (the new code path of deployWorkers). */
export async function runsOnNewBuild(
  cluster: Cluster,
  ruleId: string,
): Promise<{ runs: number; onNew: number }> {
  let runs = 0;
  let onNew = 0;
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await cluster.conn.workflowService.listWorkflowExecutions({
      namespace: cluster.opts.namespace,
      query: `RuleId='${ruleId}' AND WorkflowType='ruleRunWorkflow'`,
      pageSize: 1000,
      nextPageToken,
    });
    for (const e of page.executions ?? []) {
      runs++;
      if (e.memo?.fields?.deployedBuild) onNew++;
    }
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return { runs, onNew };
}
