/**
 * `npm run bench [-- --quick] [-- --worker-options '{"maxCachedWorkflows":500}'] [-- --only a,b]`
 *
 * Starts its own stack on free ports in a temporary data dir (embedded PostgreSQL with npm start's
 * settings, the Temporal dev server, the API and the worker as processes of their own, a webhook
 * receiver on 127.0.0.1), runs each phase with bounded counts, prints a table and writes
 * bench/results/latest.json. Latency phases are open-loop at a fixed rate; throughput phases are
 * closed-loop at fixed concurrency ("saturation"). Every figure comes with the CPU each process spent.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WorkerOptions } from '@temporalio/worker';
import { WORKFLOW_TYPES } from '../src/shared/constants';
import { addCosts, historyCost } from './lib/history';
import { peakRssMb, rssMb } from './lib/procs';
import { Receiver } from './lib/receiver';
import { BenchStack, type Account } from './lib/stack';
import {
  closedLoop,
  http,
  log,
  now,
  openLoop,
  percentile,
  round,
  sleep,
  summarize,
  waitFor,
} from './lib/util';

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const flag = (name: string) => {
  const i = argv.indexOf(name);
  return i === -1 ? undefined : argv[i + 1];
};
const WORKER_OPTIONS = JSON.parse(flag('--worker-options') ?? '{}') as Partial<WorkerOptions>;
const ONLY = flag('--only')?.split(',');
const OUT = flag('--out') ?? path.join(__dirname, 'results', 'latest.json');
const run = (phase: string) => !ONLY || ONLY.includes(phase);

/** Counts: full run ≤ 8 minutes, --quick ≤ 2 minutes on the 2-core machine. */
const N = QUICK
  ? {
      baseline: 400,
      ingest: 400,
      pipeline: 400,
      ingestLatSec: 8,
      e2eSec: 10,
      timers: 150,
      crudSec: 5,
      users: 2000,
      sleeping: 1000,
    }
  : {
      baseline: 2000,
      ingest: 2000,
      pipeline: 2000,
      ingestLatSec: 30,
      e2eSec: 40,
      timers: 1000,
      crudSec: 20,
      users: 10_000,
      sleeping: 10_000,
    };
const CONCURRENCY = 32;
const nonce = Date.now().toString(36);

type CpuPerItem = Record<string, number>;
const perItem = (cpu: Record<string, number>, n: number): CpuPerItem =>
  Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, round(v / n, 2)]));

const webhookRule = (
  name: string,
  eventName: string,
  url: string,
  delay: { value: number; unit: string },
) => ({
  name,
  trigger: { eventName },
  delay,
  conditions: { all: [] },
  actions: [{ type: 'webhook', params: { url, payload: { n: '{{job.number}}' } } }],
});

async function postEvent(stack: BenchStack, account: Account, name: string, id: string, i: number) {
  const r = await http('POST', `${stack.apiUrl}/events`, {
    token: account.apiKey,
    body: { id, name, payload: { job: { number: i } } },
  });
  if (r.status !== 202) throw new Error(`POST /events ${r.status} ${JSON.stringify(r.body)}`);
  return r;
}

async function main() {
  const started = Date.now();
  const load = os.loadavg();
  log(
    `bench ${QUICK ? '--quick' : 'full'}; load average ${load.map((l) => l.toFixed(2)).join(' ')}; ${os.cpus().length} cores`,
  );
  const receiver = await Receiver.start();
  const stack = await BenchStack.start({ baseline: run('baseline') });
  const result: Record<string, any> = {
    meta: {
      mode: QUICK ? 'quick' : 'full',
      startedAt: new Date(started).toISOString(),
      loadAverageAtStart: load.map((l) => round(l, 2)),
      cpus: os.cpus().length,
      node: process.version,
      workerOptions: WORKER_OPTIONS,
      counts: N,
    },
    profile: { cpuMsPerItem: {} as Record<string, CpuPerItem> },
  };
  const cpuProfile = result.profile.cpuMsPerItem as Record<string, CpuPerItem>;
  try {
    // ---------------------------------------------------------------- baseline: raw Temporal
    if (run('baseline')) {
      await stack.startWorker('baseline', { taskQueue: 'bench-baseline', options: WORKER_OPTIONS });
      const startOne = (i: number, tag: string) =>
        stack.client.workflow
          .start('baselineWorkflow', {
            taskQueue: 'bench-baseline',
            workflowId: `base-${nonce}-${tag}-${i}`,
            args: [receiver.url('/base'), `base-${nonce}-${tag}-${i}`],
          })
          .then(() => undefined);
      await closedLoop(CONCURRENCY, 100, (i) => startOne(i, 'warm'));
      await receiver.waitForDelivered((k) => k.includes('-warm-'), 100, 60_000);
      const cpu = stack.cpuMeter();
      const t0 = now();
      const starts = await closedLoop(CONCURRENCY, N.baseline, (i) => startOne(i, 'run'));
      await receiver.waitForDelivered((k) => k.startsWith(`base-${nonce}-run-`), N.baseline, 180_000);
      const last = Math.max(
        ...[...receiver.firstDeliveredAt]
          .filter(([k]) => k.startsWith(`base-${nonce}-run-`))
          .map(([, t]) => t),
      );
      cpuProfile.baseline = perItem(cpu(), N.baseline);
      result.baseline = {
        startsPerSec: round(starts.perSec),
        completionsPerSec: round(N.baseline / ((last - t0) / 1000)),
        count: N.baseline,
        startErrors: starts.errors,
      };
      log(`baseline ${JSON.stringify(result.baseline)}`);
      await stack.stopWorker();
    }

    // ---------------------------------------------------------------- the product
    const worker = await stack.startWorker('product', { options: WORKER_OPTIONS });
    result.meta.workerPid = worker.pid;
    const account = await stack.createAccount();
    const e2eRule = await stack.createRule(
      account,
      webhookRule('bench e2e', 'bench.e2e', receiver.url(), { value: 0, unit: 'seconds' }),
    );
    result.meta.rulesCreatedVia = stack.rulesVia;
    const keyOf = (ruleId: string, eventId: string) => `run-${ruleId}-${eventId}.action-0`;
    const deliveredFor = (ruleId: string, prefix: string) => (k: string) =>
      k.startsWith(`run-${ruleId}-${prefix}`);

    // warm-up: JIT, pools, caches
    await closedLoop(8, 100, (i) =>
      postEvent(stack, account, 'bench.e2e', `warm-${nonce}-${i}`, i).then(() => undefined),
    );
    await receiver.waitForDelivered(deliveredFor(e2eRule.id, `warm-${nonce}-`), 100, 120_000);

    if (run('ingest')) {
      // Saturation: events that match no rule (an event workflow and its rule lookup each).
      const cpu = stack.cpuMeter();
      const sat = await closedLoop(CONCURRENCY, N.ingest, (i) =>
        postEvent(stack, account, 'bench.nomatch', `sat-${nonce}-${i}`, i).then(() => undefined),
      );
      cpuProfile.ingestNoMatch = perItem(cpu(), N.ingest);
      await sleep(2000);
      // Latency at 100 events/s, open loop.
      const lat: number[] = [];
      const count = 100 * N.ingestLatSec;
      const cpu2 = stack.cpuMeter();
      const ol = await openLoop(100, count, async (i) => {
        const r = await postEvent(stack, account, 'bench.nomatch', `lat-${nonce}-${i}`, i);
        lat.push(r.ms);
      });
      cpuProfile.ingestAt100 = perItem(cpu2(), count);
      const s = summarize(lat);
      result.ingest = {
        eventsPerSec: round(sat.perSec),
        p50Ms: s.p50Ms,
        p95Ms: s.p95Ms,
        p99Ms: s.p99Ms,
        maxMs: s.maxMs,
        saturationErrors: sat.errors,
        latencyRatePerSec: round(ol.achievedRate),
        latencyErrors: count - lat.length,
      };
      log(`ingest ${JSON.stringify(result.ingest)}`);
    }

    if (run('pipeline')) {
      // Saturation of the whole pipeline: N events with a delay-0 webhook rule, as fast as they go in.
      const cpu = stack.cpuMeter();
      const t0 = now();
      const sat = await closedLoop(CONCURRENCY, N.pipeline, (i) =>
        postEvent(stack, account, 'bench.e2e', `pipe-${nonce}-${i}`, i).then(() => undefined),
      );
      const pred = deliveredFor(e2eRule.id, `pipe-${nonce}-`);
      await receiver.waitForDelivered(pred, N.pipeline, 300_000);
      const last = Math.max(...[...receiver.firstDeliveredAt].filter(([k]) => pred(k)).map(([, t]) => t));
      cpuProfile.pipeline = perItem(cpu(), N.pipeline);
      result.pipeline = {
        completionsPerSec: round(N.pipeline / ((last - t0) / 1000)),
        ingestPerSec: round(sat.perSec),
        count: N.pipeline,
        duplicates: receiver.duplicates().length,
      };
      log(`pipeline ${JSON.stringify(result.pipeline)}`);
      const runId = `run-${e2eRule.id}-pipe-${nonce}-0`;
      const eventWf = `event-${account.id}-pipe-${nonce}-0`;
      const ev = await historyCost(stack.client, eventWf);
      const rr = await historyCost(stack.client, runId);
      result.profile.historyPerEvent = { eventWorkflow: ev, ruleRun: rr, total: addCosts(ev, rr) };
    }

    if (run('e2e')) {
      await sleep(2000);
      const sentAt = new Map<string, number>();
      const acceptedAt = new Map<string, number>();
      const count = 50 * N.e2eSec;
      const cpu = stack.cpuMeter();
      const ol = await openLoop(50, count, async (i, due) => {
        const id = `e2e-${nonce}-${i}`;
        sentAt.set(id, due);
        await postEvent(stack, account, 'bench.e2e', id, i);
        acceptedAt.set(id, now());
      });
      await receiver.waitForDelivered(deliveredFor(e2eRule.id, `e2e-${nonce}-`), acceptedAt.size, 120_000);
      cpuProfile.e2eAt50 = perItem(cpu(), count);
      const fromSend: number[] = [];
      const fromAccept: number[] = [];
      for (const [id, t] of sentAt) {
        const got = receiver.firstDeliveredAt.get(keyOf(e2eRule.id, id));
        if (got === undefined) continue;
        fromSend.push(got - t);
        fromAccept.push(got - (acceptedAt.get(id) ?? t));
      }
      const s = summarize(fromSend);
      const a = summarize(fromAccept);
      result.e2e = {
        ratePerSec: round(ol.achievedRate),
        p50Ms: s.p50Ms,
        p95Ms: s.p95Ms,
        p99Ms: s.p99Ms,
        maxMs: s.maxMs,
        fromAcceptedP50Ms: a.p50Ms,
        fromAcceptedP99Ms: a.p99Ms,
        count: fromSend.length,
      };
      log(`e2e ${JSON.stringify(result.e2e)}`);
    }

    if (run('timers')) {
      const delayMs = 5000;
      const rule = await stack.createRule(
        account,
        webhookRule('bench timers', 'bench.timer', receiver.url(), { value: 5, unit: 'seconds' }),
      );
      const sentAt = new Map<string, number>();
      const cpu = stack.cpuMeter();
      await openLoop(100, N.timers, async (i, due) => {
        const id = `tmr-${nonce}-${i}`;
        sentAt.set(id, due);
        await postEvent(stack, account, 'bench.timer', id, i);
      });
      await receiver.waitForDelivered(deliveredFor(rule.id, `tmr-${nonce}-`), sentAt.size, 120_000);
      cpuProfile.timers = perItem(cpu(), N.timers);
      const lateness = [...sentAt].map(
        ([id, t]) => receiver.firstDeliveredAt.get(keyOf(rule.id, id))! - (t + delayMs),
      );
      result.timers = {
        count: lateness.length,
        delayMs,
        latenessP50Ms: round(percentile(lateness, 50)),
        latenessP99Ms: round(percentile(lateness, 99)),
        latenessMaxMs: round(Math.max(...lateness)),
        earliestMs: round(Math.min(...lateness)),
      };
      log(`timers ${JSON.stringify(result.timers)}`);
    }

    if (run('crud')) {
      const crudAccount = await stack.createAccount('Bench CRUD');
      const probe = await http('GET', `${stack.apiUrl}/rules?limit=1`, { token: crudAccount.apiKey });
      if (probe.status !== 200) {
        log(`crud skipped: GET /rules answered ${probe.status} (the rules API is not in this tree yet)`);
        result.crud = { p50Ms: null, p99Ms: null, skipped: `GET /rules answered ${probe.status}` };
      } else {
        const ids: string[] = [];
        const lat: Record<'create' | 'get' | 'list', number[]> = { create: [], get: [], list: [] };
        let errors = 0;
        const body = webhookRule('crud', 'bench.crud', receiver.url(), { value: 1, unit: 'days' });
        // Seed a few so get and list have something from the first request on.
        for (let i = 0; i < 20; i++) {
          const r = await http('POST', `${stack.apiUrl}/rules`, { token: crudAccount.apiKey, body });
          ids.push(r.body.id);
        }
        const count = 200 * N.crudSec;
        await openLoop(200, count, async (i) => {
          const kind = (['create', 'get', 'list'] as const)[i % 3];
          const r =
            kind === 'create'
              ? await http('POST', `${stack.apiUrl}/rules`, {
                  token: crudAccount.apiKey,
                  body: { ...body, name: `crud ${i}` },
                })
              : kind === 'get'
                ? await http('GET', `${stack.apiUrl}/rules/${ids[i % ids.length]}`, {
                    token: crudAccount.apiKey,
                  })
                : await http('GET', `${stack.apiUrl}/rules?limit=20`, { token: crudAccount.apiKey });
          if (r.status >= 300) errors++;
          if (kind === 'create' && r.status === 201) ids.push(r.body.id);
          lat[kind].push(r.ms);
        });
        const all = [...lat.create, ...lat.get, ...lat.list];
        result.crud = {
          p50Ms: round(percentile(all, 50)),
          p99Ms: round(percentile(all, 99)),
          createP99Ms: round(percentile(lat.create, 99)),
          getP99Ms: round(percentile(lat.get, 99)),
          listP99Ms: round(percentile(lat.list, 99)),
          requests: all.length,
          errors,
        };
      }
      log(`crud ${JSON.stringify(result.crud)}`);
    }

    if (run('tick')) {
      result.scheduledTick = await tickPhase(stack, receiver, N.users);
      log(`scheduledTick ${JSON.stringify(result.scheduledTick)}`);
    }

    if (run('scale')) {
      result.scale = await scalePhase(stack, receiver, N.sleeping, cpuProfile);
      log(`scale ${JSON.stringify(result.scale)}`);
    }

    const b = result.baseline;
    result.ratios = {
      ingestVsBaselineStart:
        b && result.ingest ? round(result.ingest.eventsPerSec / b.startsPerSec, 2) : null,
      pipelineVsBaselineCompletion:
        b && result.pipeline ? round(result.pipeline.completionsPerSec / b.completionsPerSec, 2) : null,
    };
    result.meta.durationSec = round((Date.now() - started) / 1000);
    result.meta.loadAverageAtEnd = os.loadavg().map((l) => round(l, 2));
    result.meta.duplicatesSeen = receiver.duplicates().length;
  } finally {
    await stack.stop();
    await receiver.stop();
  }
  mkdirSync(path.dirname(OUT), { recursive: true });
  writeFileSync(OUT, JSON.stringify(result, null, 2) + '\n');
  printTable(result);
  log(`wrote ${path.relative(process.cwd(), OUT)} in ${result.meta.durationSec} s`);
}

async function tickPhase(stack: BenchStack, receiver: Receiver, users: number) {
  const account = await stack.createAccount('Bench tick');
  // 1 user in 100 is gold: the tick checks every user and delivers to the gold ones.
  for (let i = 0; i < users; i += 1000) {
    const n = Math.min(1000, users - i);
    const params: unknown[] = [];
    const rows: string[] = [];
    for (let j = 0; j < n; j++) {
      const k = i + j;
      params.push(
        `usr_bench${nonce}${k}`,
        account.id,
        `ext-${k}`,
        `User ${k}`,
        JSON.stringify({ tier: k % 100 === 0 ? 'gold' : 'basic' }),
      );
      const b = j * 5;
      rows.push(`($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}::jsonb)`);
    }
    await stack.db.query(
      `INSERT INTO users (id, account_id, external_id, name, attributes) VALUES ${rows.join(',')}`,
      params,
    );
  }
  const rule = await stack.createRule(account, {
    name: 'bench tick',
    trigger: { schedule: { cron: '0 0 1 1 *', timezone: 'UTC' } },
    delay: { value: 0, unit: 'seconds' },
    conditions: { all: [{ fact: 'user', path: '$.attributes.tier', operator: 'equal', value: 'gold' }] },
    actions: [
      { type: 'webhook', params: { url: receiver.url('/tick'), payload: { user: '{{user.externalId}}' } } },
    ],
  });
  const cpu = stack.cpuMeter();
  const t0 = now();
  const handle = await stack.client.workflow.start(WORKFLOW_TYPES.scheduledTick, {
    taskQueue: stack.taskQueue,
    workflowId: `tick-${rule.id}-bench-${nonce}`,
    args: [{ accountId: account.id, ruleId: rule.id }],
  });
  const r = (await handle.result()) as {
    outcome: string;
    checked: number;
    matched: number;
    delivered: number;
    failed: number;
  };
  const seconds = (now() - t0) / 1000;
  const c = cpu();
  return {
    users,
    tickDurationMs: round(seconds * 1000),
    usersPerSec: round(users / seconds),
    outcome: r.outcome,
    checked: r.checked,
    matched: r.matched,
    delivered: r.delivered,
    failed: r.failed,
    cpuMs: Object.fromEntries(Object.entries(c).map(([k, v]) => [k, round(v)])),
  };
}

async function scalePhase(
  stack: BenchStack,
  receiver: Receiver,
  count: number,
  cpuProfile: Record<string, CpuPerItem>,
) {
  // A fresh worker, so its peak RSS belongs to this phase.
  await stack.stopWorker();
  const worker = await stack.startWorker('product', { options: WORKER_OPTIONS });
  const account = await stack.createAccount('Bench scale');
  const rule = await stack.createRule(
    account,
    webhookRule('bench sleep', 'bench.sleep', receiver.url('/never'), { value: 30, unit: 'days' }),
  );
  const rssIdle = rssMb(worker.pid);
  const cpu = stack.cpuMeter();
  const t0 = now();
  const sat = await closedLoop(CONCURRENCY, count, (i) =>
    postEvent(stack, account, 'bench.sleep', `slp-${nonce}-${i}`, i).then(() => undefined),
  );
  const running = (q: string) => stack.client.workflow.count(q).then((c) => c.count);
  const q = `RuleId='${rule.id}' AND ExecutionStatus='Running'`;
  await waitFor(
    `${count} sleeping runs`,
    async () => ((await running(q)) >= count ? true : undefined),
    300_000,
    1000,
  );
  // Event workflows done too: only the sleeping runs are left for this account.
  await waitFor(
    'event workflows to finish',
    async () =>
      (await running(`AccountId='${account.id}' AND ExecutionStatus='Running'`)) <= count ? true : undefined,
    120_000,
    1000,
  );
  const allSleepingSec = (now() - t0) / 1000;
  cpuProfile.scaleIngest = perItem(cpu(), count);
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    samples.push(rssMb(worker.pid));
    await sleep(1000);
  }
  const rssSleeping = Math.max(...samples);
  const peakWhileStarting = peakRssMb(worker.pid);
  // Cancel every run through the Temporal client (POST /executions/:id/cancel does the same per run).
  const tc = now();
  const cancel = await closedLoop(CONCURRENCY, count, (i) =>
    stack.client.workflow
      .getHandle(`run-${rule.id}-slp-${nonce}-${i}`)
      .cancel()
      .then(() => undefined),
  );
  await waitFor(
    `${count} cancelled runs`,
    async () => ((await running(q)) === 0 ? true : undefined),
    300_000,
    1000,
  );
  const cancelSec = (now() - tc) / 1000;
  return {
    sleepingRuns: count,
    workerRssMb: round(rssSleeping),
    workerRssIdleMb: round(rssIdle),
    workerPeakRssMb: round(Math.max(peakWhileStarting, peakRssMb(worker.pid))),
    workerRssAfterCancelMb: round(rssMb(worker.pid)),
    ingestPerSec: round(sat.perSec),
    allSleepingAfterSec: round(allSleepingSec),
    cancelSec: round(cancelSec),
    cancelErrors: cancel.errors,
    delivered: receiver.deliveredWhere((k) => k.startsWith(`run-${rule.id}-`)),
  };
}

function printTable(r: Record<string, any>) {
  const rows: [string, string][] = [];
  const add = (k: string, v: unknown) => rows.push([k, v === undefined || v === null ? '—' : String(v)]);
  const goal = (ok: boolean) => (ok ? '✓' : '✗');
  if (r.baseline) {
    add('baseline starts/s (raw Temporal)', r.baseline.startsPerSec);
    add('baseline completions/s', r.baseline.completionsPerSec);
  }
  if (r.ingest) {
    add(
      'ingest events/s (saturation)',
      `${r.ingest.eventsPerSec}  (${r.ratios?.ingestVsBaselineStart ?? '—'}× baseline; goal ≥ 0.9 ${goal(r.ratios?.ingestVsBaselineStart >= 0.9)})`,
    );
    add(
      'ingest latency @100/s p50/p95/p99',
      `${r.ingest.p50Ms} / ${r.ingest.p95Ms} / ${r.ingest.p99Ms} ms  (goal p99 < 50 ${goal(r.ingest.p99Ms < 50)})`,
    );
  }
  if (r.pipeline)
    add(
      'pipeline completions/s',
      `${r.pipeline.completionsPerSec}  (${r.ratios?.pipelineVsBaselineCompletion ?? '—'}× baseline; goal ≥ 0.6 ${goal(r.ratios?.pipelineVsBaselineCompletion >= 0.6)})`,
    );
  if (r.e2e)
    add(
      `e2e @${r.e2e.ratePerSec}/s p50/p95/p99`,
      `${r.e2e.p50Ms} / ${r.e2e.p95Ms} / ${r.e2e.p99Ms} ms  (goal p50 < 100 ${goal(r.e2e.p50Ms < 100)}, p99 < 500 ${goal(r.e2e.p99Ms < 500)})`,
    );
  if (r.timers)
    add(
      `timers ${r.timers.count} × 5 s lateness p50/p99/max`,
      `${r.timers.latenessP50Ms} / ${r.timers.latenessP99Ms} / ${r.timers.latenessMaxMs} ms  (goal p99 < 1000 ${goal(r.timers.latenessP99Ms < 1000)})`,
    );
  if (r.crud)
    add(
      'crud @200/s p50/p99',
      r.crud.p50Ms === null ? `skipped (${r.crud.skipped})` : `${r.crud.p50Ms} / ${r.crud.p99Ms} ms`,
    );
  if (r.scheduledTick)
    add(
      `scheduled tick over ${r.scheduledTick.users} users`,
      `${r.scheduledTick.tickDurationMs} ms (${r.scheduledTick.matched} matched, ${r.scheduledTick.delivered} delivered)`,
    );
  if (r.scale)
    add(
      `worker RSS, ${r.scale.sleepingRuns} sleeping runs`,
      `${r.scale.workerRssMb} MB (peak ${r.scale.workerPeakRssMb}; goal < 512 ${goal(r.scale.workerRssMb < 512)}); cancelled in ${r.scale.cancelSec} s`,
    );
  const hp = r.profile?.historyPerEvent?.total;
  if (hp)
    add(
      'per event (delay-0 webhook rule)',
      `${hp.workflowTasks} workflow tasks, ${hp.activities} activities, ${hp.localActivities} local, ${hp.events} history events`,
    );
  for (const [phase, cpu] of Object.entries(r.profile?.cpuMsPerItem ?? {}))
    add(
      `CPU ms/item ${phase}`,
      Object.entries(cpu as Record<string, number>)
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    );
  const w = Math.max(...rows.map(([k]) => k.length));
  process.stdout.write('\n' + rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n') + '\n\n');
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
