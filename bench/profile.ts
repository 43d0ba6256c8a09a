/**
 * `npx tsx bench/profile.ts [--events 400] [--rate 10]`: where the CPU goes
 * per event. Runs the delay-0 webhook pipeline at a rate the machine sustains, with the worker and the
 * API under `node --cpu-prof`, then prints (and writes to bench/results/profile.json) the CPU each
 * process spent per event, the end-to-end latency at that rate, and the hottest modules and functions
 * of each thread (the worker's workflow code runs in a thread of its own).
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatSummary, profileStartUs, summarizeProfile } from './lib/cpuprofile';
import { Receiver } from './lib/receiver';
import { BenchStack } from './lib/stack';
import { http, log, openLoop, round, summarize } from './lib/util';

const argv = process.argv.slice(2);
const flag = (name: string, dflt: string) => {
  const i = argv.indexOf(name);
  return i === -1 ? dflt : argv[i + 1];
};
const EVENTS = Number(flag('--events', '400'));
const RATE = Number(flag('--rate', '10'));

async function main() {
  const profDir = path.join(os.tmpdir(), `crm-profile-${Date.now().toString(36)}`);
  mkdirSync(profDir, { recursive: true });
  const receiver = await Receiver.start();
  const stack = await BenchStack.start({
    apiNodeArgs: ['--cpu-prof', `--cpu-prof-dir=${path.join(profDir, 'api')}`],
  });
  let out: Record<string, unknown> = {};
  /** Wall-clock window of the measurement, and when each profiled process started. */
  const window = { from: 0, to: 0 };
  const spawned: Record<string, number> = { api: stack.api.startedAt };
  try {
    const worker = await stack.startWorker('product', {
      nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${path.join(profDir, 'worker')}`],
    });
    spawned.worker = worker.startedAt;
    const account = await stack.createAccount();
    const rule = await stack.createRule(account, {
      name: 'profile',
      trigger: { eventName: 'profile.e2e' },
      delay: { value: 0, unit: 'seconds' },
      conditions: { all: [] },
      actions: [{ type: 'webhook', params: { url: receiver.url(), payload: { n: '{{job.number}}' } } }],
    });
    const send = (id: string, i: number) =>
      http('POST', `${stack.apiUrl}/events`, {
        token: account.apiKey,
        body: { id, name: 'profile.e2e', payload: { job: { number: i } } },
      });
    for (let i = 0; i < 30; i++) await send(`warm-${i}`, i);
    await receiver.waitForDelivered((k) => k.includes('-warm-'), 30, 60_000);
    const cpu = stack.cpuMeter();
    window.from = Date.now();
    const sentAt = new Map<string, number>();
    await openLoop(RATE, EVENTS, async (i, due) => {
      sentAt.set(`p-${i}`, due);
      await send(`p-${i}`, i);
    });
    await receiver.waitForDelivered((k) => k.includes('-p-'), EVENTS, 120_000);
    const c = cpu();
    window.to = Date.now();
    const lat = [...sentAt].map(
      ([id, t]) => receiver.firstDeliveredAt.get(`run-${rule.id}-${id}.action-0`)! - t,
    );
    out = {
      events: EVENTS,
      ratePerSec: RATE,
      loadAverage: os.loadavg().map((l) => round(l, 2)),
      e2e: summarize(lat),
      cpuMsPerEvent: Object.fromEntries(Object.entries(c).map(([k, v]) => [k, round(v / EVENTS, 2)])),
    };
  } finally {
    // SIGTERM: both processes exit cleanly, which is when node writes the profiles.
    await stack.stop();
    await receiver.stop();
  }
  const files = (dir: string) =>
    readdirSync(dir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => path.join(dir, f));
  // Each process's first profile is its main thread, started with the process: that anchors the window.
  const threads = (['worker', 'api'] as const).flatMap((proc) => {
    const list = files(path.join(profDir, proc));
    const origin = Math.min(...list.map(profileStartUs));
    const fromUs = origin + (window.from - spawned[proc]) * 1000;
    const toUs = origin + (window.to - spawned[proc]) * 1000;
    return list
      .map((f) => ({ process: proc, ...summarizeProfile(f, 25, { fromUs, toUs }) }))
      .filter((t) => t.totalMs - t.idleMs > 200);
  });
  out.threads = threads;
  const file = path.join(__dirname, 'results', 'profile.json');
  writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  process.stdout.write(`\n${JSON.stringify({ ...out, threads: undefined }, null, 2)}\n\n`);
  for (const t of threads) process.stdout.write(`[${t.process}] ${formatSummary(t)}\n\n`);
  log(`wrote ${path.relative(process.cwd(), file)}; raw profiles in ${profDir}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
