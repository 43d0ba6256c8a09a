/**
 * The fairness phase (`npm run bench -- --only fairness [--fairness-sec N]`): a victim account sends
 * events at a low rate, first alone, then while a flooder account posts batches of 100 as fast as they
 * are taken (a fixed number of batch requests in flight, bounded in count and time). Both have a delay-0
 * webhook rule; the victim's figure is send → webhook delivered (p99), which is what fair dispatch of
 * workflow and activity tasks by account protects. Its POST /events p99 is reported beside it.
 */
import type { Receiver } from './receiver';
import type { BenchStack } from './stack';
import { http, log, now, openLoop, round, sleep, summarize } from './util';

const VICTIM_RATE = 2;
const FLOOD_CONCURRENCY = 4;
const BATCH = 100;

export async function fairnessPhase(
  stack: BenchStack,
  receiver: Receiver,
  opts: { seconds: number; nonce: string; drainMs: number },
) {
  const victim = await stack.createAccount('Bench victim');
  const flooder = await stack.createAccount('Bench flooder');
  const rule = (url: string) => ({
    name: 'bench fairness',
    trigger: { eventName: 'bench.fair' },
    delay: { value: 0, unit: 'seconds' },
    conditions: { all: [] },
    actions: [{ type: 'webhook', params: { url, payload: { n: '{{job.number}}' } } }],
  });
  const victimRule = await stack.createRule(victim, rule(receiver.url('/victim')));
  const floodRule = await stack.createRule(flooder, rule(receiver.url('/flood')));
  const key = (ruleId: string, eventId: string) => `run-${ruleId}-${eventId}.action-0`;

  const victimRun = async (tag: string) => {
    const sentAt = new Map<string, number>();
    const ingestMs: number[] = [];
    let errors = 0;
    const count = Math.max(4, Math.round(VICTIM_RATE * opts.seconds));
    await openLoop(VICTIM_RATE, count, async (i, due) => {
      const id = `fair-${tag}-${opts.nonce}-${i}`;
      sentAt.set(id, due);
      const r = await http('POST', `${stack.apiUrl}/events`, {
        token: victim.apiKey,
        body: { id, name: 'bench.fair', payload: { job: { number: i } } },
      });
      ingestMs.push(now() - due);
      if (r.status !== 202) errors++;
    });
    const deadline = Date.now() + opts.drainMs;
    const delivered = () =>
      [...sentAt.keys()].filter((id) => receiver.firstDeliveredAt.has(key(victimRule.id, id)));
    while (delivered().length < sentAt.size - errors && Date.now() < deadline) await sleep(100);
    const e2e = delivered().map(
      (id) => receiver.firstDeliveredAt.get(key(victimRule.id, id))! - sentAt.get(id)!,
    );
    return {
      e2e: summarize(e2e),
      ingest: summarize(ingestMs),
      sent: sentAt.size,
      delivered: e2e.length,
      errors,
    };
  };

  log(`fairness: victim alone at ${VICTIM_RATE}/s for ${opts.seconds} s`);
  const alone = await victimRun('alone');

  log(`fairness: victim under a flood of batches (${FLOOD_CONCURRENCY} × ${BATCH} in flight)`);
  let stop = false;
  let accepted = 0;
  let limited = 0;
  let failed = 0;
  let batches = 0;
  const maxBatches = Math.ceil((opts.seconds * 400) / BATCH); // bounded even on a fast machine
  const floodStart = now();
  const flood = Promise.all(
    Array.from({ length: FLOOD_CONCURRENCY }, async () => {
      while (!stop && batches < maxBatches) {
        const b = batches++;
        const events = Array.from({ length: BATCH }, (_, i) => ({
          id: `flood-${opts.nonce}-${b}-${i}`,
          name: 'bench.fair',
          payload: { job: { number: i } },
        }));
        const r = await http('POST', `${stack.apiUrl}/events/batch`, {
          token: flooder.apiKey,
          body: { events },
        });
        if (r.status !== 200) {
          failed += BATCH;
          await sleep(100);
          continue;
        }
        for (const x of r.body.results as Array<{ status: number }>) {
          if (x.status === 202) accepted++;
          else if (x.status === 429) limited++;
          else failed++;
        }
      }
    }),
  );
  // Let the flood build its backlog first, so the victim meets it at its worst.
  await sleep(Math.min(3000, (opts.seconds * 1000) / 4));
  const backlog = await backlogOf(stack);
  const under = await victimRun('flood');
  stop = true;
  await flood;
  const floodSeconds = (now() - floodStart) / 1000;
  const floodDelivered = [...receiver.firstDeliveredAt.keys()].filter((k) =>
    k.startsWith(`run-${floodRule.id}-flood-${opts.nonce}-`),
  ).length;

  const result = {
    victimAloneP99Ms: alone.e2e.p99Ms,
    victimUnderFloodP99Ms: under.e2e.p99Ms,
    ratio: round(under.e2e.p99Ms / alone.e2e.p99Ms, 2),
    floodEventsPerSec: round(accepted / floodSeconds),
    victimAloneP50Ms: alone.e2e.p50Ms,
    victimUnderFloodP50Ms: under.e2e.p50Ms,
    victimIngestAloneP99Ms: alone.ingest.p99Ms,
    victimIngestUnderFloodP99Ms: under.ingest.p99Ms,
    victimSent: { alone: alone.sent, underFlood: under.sent },
    victimDelivered: { alone: alone.delivered, underFlood: under.delivered },
    victimErrors: { alone: alone.errors, underFlood: under.errors },
    flood: {
      batches,
      accepted,
      limited429: limited,
      failed,
      seconds: round(floodSeconds),
      deliveredDuringPhase: floodDelivered,
    },
    /** Tasks waiting in matching when the victim started: fairness orders only these. */
    matchingBacklogAtVictimStart: backlog,
    seconds: opts.seconds,
  };
  // Do not leave the flood's backlog to the phases after this one.
  const deadline = Date.now() + opts.drainMs;
  while (Date.now() < deadline) {
    const n = [...receiver.firstDeliveredAt.keys()].filter((k) =>
      k.startsWith(`run-${floodRule.id}-flood-${opts.nonce}-`),
    ).length;
    if (n >= accepted) break;
    await sleep(500);
  }
  return result;
}

/** Approximate backlog of the product's task queue in matching (workflow and activity tasks). */
async function backlogOf(stack: BenchStack): Promise<Record<string, number | null>> {
  const out: Record<string, number | null> = {};
  for (const [name, taskQueueType] of [
    ['workflow', 1],
    ['activity', 2],
  ] as const) {
    const r = await stack.client.workflowService
      .describeTaskQueue({
        namespace: 'default',
        taskQueue: { name: stack.taskQueue },
        taskQueueType,
        reportStats: true,
      })
      .catch(() => null);
    const n = r?.stats?.approximateBacklogCount;
    out[name] = n === undefined || n === null ? null : Number(n);
  }
  return out;
}
