/**
 * The pipeline phase: `count` events for a delay-0 webhook rule, POSTed as fast as they go in at
 * fixed concurrency, until every webhook arrived. bench/run.ts runs it on the dev-server stack, the
 * cluster bench (bench/cluster-bench.ts) on the cluster with one worker and with two.
 */
import type { Receiver } from './receiver';
import type { Account } from './stack';
import { closedLoop, http, now, round } from './util';

export async function postEvent(apiUrl: string, account: Account, name: string, id: string, i: number) {
  const r = await http('POST', `${apiUrl}/events`, {
    token: account.apiKey,
    body: { id, name, payload: { job: { number: i } } },
  });
  if (r.status !== 202) throw new Error(`POST /events ${r.status} ${JSON.stringify(r.body)}`);
  return r;
}

export async function pipelinePhase(o: {
  apiUrl: string;
  account: Account;
  ruleId: string;
  eventName: string;
  receiver: Receiver;
  count: number;
  /** Event ids are `${tag}-${i}`. */
  tag: string;
  concurrency: number;
  drainMs: number;
}) {
  const t0 = now();
  const sat = await closedLoop(o.concurrency, o.count, (i) =>
    postEvent(o.apiUrl, o.account, o.eventName, `${o.tag}-${i}`, i).then(() => undefined),
  );
  const pred = (k: string) => k.startsWith(`run-${o.ruleId}-${o.tag}-`);
  await o.receiver.waitForDelivered(pred, o.count, o.drainMs);
  const last = Math.max(...[...o.receiver.firstDeliveredAt].filter(([k]) => pred(k)).map(([, t]) => t));
  return {
    completionsPerSec: round(o.count / ((last - t0) / 1000)),
    ingestPerSec: round(sat.perSec),
    count: o.count,
    duplicates: o.receiver.duplicates().length,
  };
}
