/**
 * `npm run bench [-- --quick] [-- --worker-options '{"maxCachedWorkflows":500}'] [-- --only a,b]
 *  [-- --out FILE] [-- --codec off] [-- --fairness-sec N]`
 *
 * Starts its own stack on free ports in a temporary data dir (embedded PostgreSQL with npm start's
 * settings, the Temporal dev server, the API and the worker as processes of their own, a webhook
 * receiver on 127.0.0.1), runs each phase with bounded counts, prints a table and writes
 * bench/results/latest.json. Latency phases are open-loop at a fixed rate; throughput phases are
 * closed-loop at fixed concurrency ("saturation"). Every figure comes with the CPU each process spent.
 * Payloads are encrypted as under `npm start`; `--codec off` runs without, to measure what the codec
 * costs (e.g. `--only pipeline` both ways). `fairness` is bench/lib/fairness.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WorkerOptions } from '@temporalio/worker';
import { SEARCH_ATTRIBUTES, WORKFLOW_TYPES } from '../src/shared/constants';
import { fairnessPhase } from './lib/fairness';
import { addCosts, historyCost, meanCost, timerFiredLatenessMs } from './lib/history';
import { peakRssMb, rssMb } from './lib/procs';
import { Receiver } from './lib/receiver';
import { BenchStack, type Account } from './lib/stack';
import { pipelinePhase, postEvent as postEventTo } from './lib/pipeline';
import { runClusterBench } from './cluster-bench';
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
const CODEC = flag('--codec') !== 'off';
const run = (phase: string) => !ONLY || ONLY.includes(phase);
/** Experiments run only when named in --only. */
const experiment = (phase: string) => !!ONLY?.includes(phase);

/**
 * Counts: the full run fits in 8 minutes and --quick in 2 on the 2-core machine when it is otherwise
 * idle. Every wait is also capped, so a loaded machine gives worse numbers, not an endless run.
 */
const N = QUICK
  ? {
      baseline: 150,
      ingest: 150,
      pipeline: 100,
      ingestLatSec: 3,
      e2eSec: 4,
      e2eLowSec: 4,
      timers: 40,
      timerRate: 8,
      crudSec: 3,
      users: 2000,
      sleeping: 600,
    }
  : {
      baseline: 600,
      ingest: 600,
      pipeline: 300,
      ingestLatSec: 10,
      e2eSec: 6,
      e2eLowSec: 10,
      timers: 200,
      timerRate: 8,
      crudSec: 10,
      users: 10_000,
      sleeping: 10_000,
    };
/** A rate the whole pipeline sustains on 2 cores, for the latency it has when it is not queueing. */
const E2E_LOW_RATE = 2;
const DRAIN_MS = QUICK ? 30_000 : 60_000;
/** How the scale phase puts runs to sleep: the product's rule-run workflows started directly (default), or POST /events. */
const SCALE_VIA = (flag('--scale-via') ?? 'client') as 'client' | 'api';
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

const postEvent = (stack: BenchStack, account: Account, name: string, id: string, i: number) =>
  postEventTo(stack.apiUrl, account, name, id, i);

async function main() {
  // The pipeline phase on the cluster topology, beside the dev server's (bench/cluster-bench.ts).
  if (argv.includes('--cluster')) {
    await runClusterBench(QUICK, flag('--out') ?? path.join(__dirname, 'results', 'cluster.json'));
    process.exit(0);
  }
  const started = Date.now();
  const load = os.loadavg();
  log(
    `bench ${QUICK ? '--quick' : 'full'}; load average ${load.map((l) => l.toFixed(2)).join(' ')}; ${os.cpus().length} cores`,
  );
  const receiver = await Receiver.start();
  const stack = await BenchStack.start({ baseline: run('baseline'), codec: CODEC });
  // The API and worker run detached: stop everything on Ctrl-C too.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      log(`${sig}: stopping the stack`);
      void stack.stop().finally(() => process.exit(130));
    });
  }
  const result: Record<string, any> = {
    meta: {
      mode: QUICK ? 'quick' : 'full',
      startedAt: new Date(started).toISOString(),
      loadAverageAtStart: load.map((l) => round(l, 2)),
      cpus: os.cpus().length,
      node: process.version,
      workerOptions: WORKER_OPTIONS,
      codec: CODEC ? 'on' : 'off',
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
      await receiver.waitForDelivered((k) => k.startsWith(`base-${nonce}-run-`), N.baseline, DRAIN_MS * 2);
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
      // The saturation phase leaves event workflows queued: let them finish first.
      await settle(stack);
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
      await settle(stack);
      // Saturation of the whole pipeline: N events with a delay-0 webhook rule, as fast as they go in.
      const cpu = stack.cpuMeter();
      result.pipeline = await pipelinePhase({
        apiUrl: stack.apiUrl,
        account,
        ruleId: e2eRule.id,
        eventName: 'bench.e2e',
        receiver,
        count: N.pipeline,
        tag: `pipe-${nonce}`,
        concurrency: CONCURRENCY,
        drainMs: DRAIN_MS * 2,
      });
      cpuProfile.pipeline = perItem(cpu(), N.pipeline);
      log(`pipeline ${JSON.stringify(result.pipeline)}`);
      // What each event cost Temporal: the mean over a spread of the runs (late ones waited longest).
      const sample = Array.from({ length: 10 }, (_, k) => Math.floor((k * N.pipeline) / 10));
      const ev = meanCost(
        await Promise.all(
          sample.map((i) => historyCost(stack.client, `event-${account.id}-pipe-${nonce}-${i}`)),
        ),
      );
      const rr = meanCost(
        await Promise.all(
          sample.map((i) => historyCost(stack.client, `run-${e2eRule.id}-pipe-${nonce}-${i}`)),
        ),
      );
      result.profile.historyPerEvent = { eventWorkflow: ev, ruleRun: rr, total: addCosts(ev, rr) };
    }

    if (experiment('pipelineDirect')) {
      // What if the API started the rule runs itself (no event workflow)? The same rule-run workflows,
      // started as the event workflow starts them, as fast as they go in.
      await settle(stack);
      const cpu = stack.cpuMeter();
      const t0 = now();
      const [matched] = await stack.db.query(`SELECT name, version FROM rules WHERE id = $1`, [e2eRule.id]);
      await closedLoop(CONCURRENCY, N.pipeline, async (i) => {
        const eventId = `direct-${nonce}-${i}`;
        const receivedAt = new Date().toISOString();
        await stack.client.workflow.start(WORKFLOW_TYPES.ruleRun, {
          taskQueue: stack.taskQueue,
          workflowId: keyOf(e2eRule.id, eventId).replace(/\.action-0$/, ''),
          args: [
            {
              accountId: account.id,
              rule: {
                id: e2eRule.id,
                name: matched.name,
                version: matched.version,
                delayMs: 0,
                delayText: 'no delay',
              },
              event: {
                id: eventId,
                name: 'bench.e2e',
                occurredAt: receivedAt,
                receivedAt,
                payload: { job: { number: i } },
              },
            },
          ],
          typedSearchAttributes: [
            { key: SEARCH_ATTRIBUTES.AccountId, value: account.id },
            { key: SEARCH_ATTRIBUTES.RuleId, value: e2eRule.id },
            { key: SEARCH_ATTRIBUTES.EventName, value: 'bench.e2e' },
            { key: SEARCH_ATTRIBUTES.EventId, value: eventId },
          ],
          memo: { ruleName: matched.name, ruleVersion: matched.version, kind: 'rule-run' },
          staticSummary: `${matched.name} · bench.e2e ${eventId}`,
        });
      });
      const pred = deliveredFor(e2eRule.id, `direct-${nonce}-`);
      await receiver.waitForDelivered(pred, N.pipeline, DRAIN_MS * 2);
      const last = Math.max(...[...receiver.firstDeliveredAt].filter(([k]) => pred(k)).map(([, t]) => t));
      cpuProfile.pipelineDirect = perItem(cpu(), N.pipeline);
      result.pipelineDirect = {
        completionsPerSec: round(N.pipeline / ((last - t0) / 1000)),
        count: N.pipeline,
      };
      log(`pipelineDirect ${JSON.stringify(result.pipelineDirect)}`);
    }

    const e2eAt = async (rate: number, seconds: number, tag: string, phase: string) => {
      await settle(stack);
      const sentAt = new Map<string, number>();
      const acceptedAt = new Map<string, number>();
      const count = Math.round(rate * seconds);
      const cpu = stack.cpuMeter();
      const ol = await openLoop(rate, count, async (i, due) => {
        const id = `${tag}-${nonce}-${i}`;
        sentAt.set(id, due);
        await postEvent(stack, account, 'bench.e2e', id, i);
        acceptedAt.set(id, now());
      });
      await receiver
        .waitForDelivered(deliveredFor(e2eRule.id, `${tag}-${nonce}-`), acceptedAt.size, DRAIN_MS)
        .catch((err: Error) => log(`${phase}: ${err.message}`));
      cpuProfile[phase] = perItem(cpu(), count);
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
      return {
        ratePerSec: round(ol.achievedRate),
        p50Ms: s.p50Ms,
        p95Ms: s.p95Ms,
        p99Ms: s.p99Ms,
        maxMs: s.maxMs,
        fromAcceptedP50Ms: a.p50Ms,
        fromAcceptedP99Ms: a.p99Ms,
        sent: count,
        delivered: fromSend.length,
      };
    };

    if (run('e2e')) {
      result.e2eLowRate = await e2eAt(E2E_LOW_RATE, N.e2eLowSec, 'low', 'e2eAt2');
      log(`e2e at ${E2E_LOW_RATE}/s ${JSON.stringify(result.e2eLowRate)}`);
      result.e2e = await e2eAt(50, N.e2eSec, 'e2e', 'e2eAt50');
      log(`e2e ${JSON.stringify(result.e2e)}`);
    }

    if (run('fairness')) {
      await settle(stack);
      const seconds = Number(flag('--fairness-sec') ?? (QUICK ? 8 : 20));
      result.fairness = await fairnessPhase(stack, receiver, { seconds, nonce, drainMs: DRAIN_MS });
      log(`fairness ${JSON.stringify(result.fairness)}`);
    }

    if (run('timers')) {
      await settle(stack);
      const delayMs = 5000;
      const rule = await stack.createRule(
        account,
        webhookRule('bench timers', 'bench.timer', receiver.url(), { value: 5, unit: 'seconds' }),
      );
      const sentAt = new Map<string, number>();
      const cpu = stack.cpuMeter();
      await openLoop(N.timerRate, N.timers, async (i, due) => {
        const id = `tmr-${nonce}-${i}`;
        sentAt.set(id, due);
        await postEvent(stack, account, 'bench.timer', id, i);
      });
      await receiver
        .waitForDelivered(deliveredFor(rule.id, `tmr-${nonce}-`), sentAt.size, 5000 + DRAIN_MS)
        .catch((err: Error) => log(`timers: ${err.message}`));
      cpuProfile.timers = perItem(cpu(), N.timers);
      const lateness = [...sentAt]
        .map(([id, t]) => (receiver.firstDeliveredAt.get(keyOf(rule.id, id)) ?? NaN) - (t + delayMs))
        .filter(Number.isFinite);
      // The server's own precision, from the histories of a sample of the runs.
      const sample = [...sentAt.keys()].filter((_, i) => i % Math.ceil(sentAt.size / 100) === 0);
      const fired = (
        await Promise.all(sample.map((id) => timerFiredLatenessMs(stack.client, `run-${rule.id}-${id}`)))
      ).filter((v): v is number => v !== null);
      result.timers = {
        count: lateness.length,
        delayMs,
        latenessP50Ms: round(percentile(lateness, 50)),
        latenessP99Ms: round(percentile(lateness, 99)),
        latenessMaxMs: round(Math.max(...lateness)),
        earliestMs: round(Math.min(...lateness)),
        undelivered: sentAt.size - lateness.length,
        ratePerSec: N.timerRate,
        timerFiredLatenessP50Ms: round(percentile(fired, 50)),
        timerFiredLatenessP99Ms: round(percentile(fired, 99)),
        timerFiredSample: fired.length,
      };
      log(`timers ${JSON.stringify(result.timers)}`);
    }

    if (run('crud')) {
      await settle(stack);
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
      await settle(stack);
      result.scheduledTick = await tickPhase(stack, receiver, N.users);
      log(`scheduledTick ${JSON.stringify(result.scheduledTick)}`);
    }

    if (run('scale')) {
      await settle(stack);
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
  const delay = { value: 30, unit: 'days' };
  const rule = await stack.createRule(
    account,
    webhookRule('bench sleep', 'bench.sleep', receiver.url('/never'), delay),
  );
  await sleep(2000);
  const rssIdle = rssMb(worker.pid);
  const cpu = stack.cpuMeter();
  const t0 = now();
  const runId = (i: number) => `run-${rule.id}-slp-${nonce}-${i}`;
  // The product's rule-run workflow, started as the event workflow starts it (same id, attributes and
  // input) or, with --scale-via api, through POST /events (twice the Temporal work per run).
  const sat = await closedLoop(CONCURRENCY * 2, count, async (i) => {
    const eventId = `slp-${nonce}-${i}`;
    if (SCALE_VIA === 'api') {
      await postEvent(stack, account, 'bench.sleep', eventId, i);
      return;
    }
    const receivedAt = new Date().toISOString();
    await stack.client.workflow.start(WORKFLOW_TYPES.ruleRun, {
      taskQueue: stack.taskQueue,
      workflowId: runId(i),
      args: [
        {
          accountId: account.id,
          rule: {
            id: rule.id,
            name: 'bench sleep',
            version: 1,
            delayMs: 30 * 86_400_000,
            delayText: '30 days',
          },
          event: {
            id: eventId,
            name: 'bench.sleep',
            occurredAt: receivedAt,
            receivedAt,
            payload: { job: { number: i } },
          },
        },
      ],
      typedSearchAttributes: [
        { key: SEARCH_ATTRIBUTES.AccountId, value: account.id },
        { key: SEARCH_ATTRIBUTES.RuleId, value: rule.id },
        { key: SEARCH_ATTRIBUTES.EventName, value: 'bench.sleep' },
        { key: SEARCH_ATTRIBUTES.EventId, value: eventId },
      ],
      memo: { ruleName: 'bench sleep', ruleVersion: 1, kind: 'rule-run' },
      staticSummary: `bench sleep · bench.sleep ${eventId}`,
    });
  });
  const running = (q: string) => stack.client.workflow.count(q).then((c) => c.count);
  const q = `RuleId='${rule.id}' AND ExecutionStatus='Running'`;
  await waitFor(
    `${count} running runs`,
    async () => ((await running(q)) >= count ? true : undefined),
    DRAIN_MS * 2,
    1000,
  );
  // Asleep = every run has taken its first workflow task: the worker and the server go quiet.
  await quiet(stack, DRAIN_MS * 2);
  const allSleepingSec = (now() - t0) / 1000;
  cpuProfile.scaleSleep = perItem(cpu(), count);
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    samples.push(rssMb(worker.pid));
    await sleep(1000);
  }
  const rssSleeping = Math.max(...samples);
  const peakWhileStarting = peakRssMb(worker.pid);
  // Cancel every run through the Temporal client (POST /executions/:id/cancel does the same per run),
  // within a time budget: what is left is reported.
  const tc = now();
  const cancel = await closedLoop(
    CONCURRENCY * 2,
    count,
    (i) =>
      stack.client.workflow
        .getHandle(runId(i))
        .cancel()
        .then(() => undefined),
    DRAIN_MS / 2,
  );
  const requestedSec = (now() - tc) / 1000;
  let left = count;
  await waitFor(
    `${count} cancelled runs`,
    async () => ((left = await running(q)) === 0 ? true : undefined),
    Math.max(10_000, DRAIN_MS - requestedSec * 1000),
    1000,
  ).catch(() => undefined);
  const cancelSec = (now() - tc) / 1000;
  return {
    sleepingRuns: count,
    workerRssMb: round(rssSleeping),
    workerRssIdleMb: round(rssIdle),
    workerPeakRssMb: round(Math.max(peakWhileStarting, peakRssMb(worker.pid))),
    workerRssAfterCancelMb: round(rssMb(worker.pid)),
    startedVia: SCALE_VIA === 'api' ? 'POST /events' : 'Temporal client (rule-run workflows)',
    startsPerSec: round(sat.perSec),
    allSleepingAfterSec: round(allSleepingSec),
    cancelRequests: cancel.done,
    cancelRequestsPerSec: round(cancel.perSec),
    cancelRequestsSec: round(requestedSec),
    cancelSec: round(cancelSec),
    stillRunningAfterCancel: left,
    cancelErrors: cancel.errors,
    delivered: receiver.deliveredWhere((k) => k.startsWith(`run-${rule.id}-`)),
  };
}

/** Before a phase: the backlog of the one before is worked off, so its CPU is not counted here. */
async function settle(stack: BenchStack): Promise<void> {
  await quiet(stack, DRAIN_MS);
}

/** Waits until the worker and the Temporal server have used under 10 % of a core for 2 s in a row. */
async function quiet(stack: BenchStack, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const cpu = stack.cpuMeter();
    await sleep(2000);
    const c = cpu();
    if (c.worker + c.temporal < 200) return;
  }
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
  if (r.fairness)
    add(
      'victim e2e p99 alone / under a flood',
      `${r.fairness.victimAloneP99Ms} / ${r.fairness.victimUnderFloodP99Ms} ms  (ratio ${r.fairness.ratio}; goal ≤ 3 ${goal(r.fairness.ratio <= 3)}; flood ${r.fairness.floodEventsPerSec} events/s)`,
    );
  if (r.e2eLowRate)
    add(
      `e2e @${r.e2eLowRate.ratePerSec}/s p50/p95/p99`,
      `${r.e2eLowRate.p50Ms} / ${r.e2eLowRate.p95Ms} / ${r.e2eLowRate.p99Ms} ms  (the latency without queueing)`,
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
      `${hp.workflowTasks} workflow tasks, ${hp.activities} activities, ${hp.localActivities} local, ${hp.patches} patch markers, ${hp.events} history events, ${hp.workflowTaskTimeouts} workflow task timeouts (mean of 10)`,
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
