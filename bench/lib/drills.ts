/**
 * Fault drills that only need an API, a Temporal client, a webhook receiver and a worker process that
 * can be SIGKILLed: `npm run drill` runs them on its own stack, test/e2e/drills.test.ts on the test
 * servers. Each returns what was sent, delivered and duplicated; `ok` is false on any loss or duplicate.
 */
import type { Client } from '@temporalio/client';
import { describeFuzz, runSchemathesis } from '../../scripts/schemathesis';
import { buildCorpus, runCorpus, type CorpusContext } from './corpus';
import { eventIdOfKey, type Receiver } from './receiver';
import type { Account } from './stack';
import { closedLoop, http, sleep, waitFor } from './util';

export interface DrillResult {
  drill: string;
  sent: number;
  delivered: number;
  duplicated: number;
  ok: boolean;
  seconds: number;
  notes: string[];
}

export interface DrillEnv {
  apiUrl: string;
  adminToken: string;
  client: Client;
  receiver: Receiver;
  createAccount(name: string): Promise<Account>;
  createRule(account: Account, body: unknown): Promise<{ id: string }>;
  /** The worker process running this stack's task queue. */
  worker: { kill(): void; start(): Promise<void>; running(): boolean };
  log(msg: string): void;
}

const nonce = () => Date.now().toString(36) + Math.random().toString(36).slice(2, 6);

export const webhookRule = (name: string, eventName: string, url: string, delaySeconds: number) => ({
  name,
  trigger: { eventName },
  delay: { value: delaySeconds, unit: 'seconds' },
  conditions: { all: [] },
  actions: [{ type: 'webhook', params: { url, payload: { job: '{{job.number}}', event: '{{event.id}}' } } }],
});

/**
 * POSTs one event, retrying while the API cannot take it as a CRM's sender would: after `Retry-After`
 * when the answer has one, else with a backoff doubling from 250 ms to 4 s. Returns the statuses seen.
 */
export async function sendEvent(
  env: Pick<DrillEnv, 'apiUrl'>,
  account: Account,
  name: string,
  id: string,
  n: number,
  retryForMs = 0,
  /** Each attempt's answer (the cluster drills' error rate); an attempt gives up after `timeoutMs`. */
  opts: { onAttempt?: (a: { status: number; ms: number; code?: string }) => void; timeoutMs?: number } = {},
): Promise<number[]> {
  const statuses: number[] = [];
  const deadline = Date.now() + retryForMs;
  for (let backoffMs = 250; ; backoffMs = Math.min(backoffMs * 2, 4000)) {
    const t0 = Date.now();
    const r = await http('POST', `${env.apiUrl}/events`, {
      token: account.apiKey,
      body: { id, name, payload: { job: { number: n } } },
      timeoutMs: opts.timeoutMs,
    }).catch(() => ({ status: 0, body: null, headers: new Headers() }));
    opts.onAttempt?.({ status: r.status, ms: Date.now() - t0, code: r.body?.error?.code });
    statuses.push(r.status);
    if (r.status === 202 || r.status === 200) return statuses;
    if (Date.now() > deadline) throw new Error(`POST /events ${id}: ${statuses.join(',')}`);
    const retryAfterS = Number(r.headers.get('retry-after'));
    await sleep(retryAfterS > 0 ? retryAfterS * 1000 : backoffMs);
  }
}

/**
 * Counts deliveries of one rule: unique keys delivered, keys delivered twice (a copy after one the
 * receiver answered in time), and keys sent again only because an earlier answer missed the deadline.
 */
export function tally(receiver: Receiver, ruleId: string) {
  const ofRule = (k: string) => eventIdOfKey(k, ruleId) !== null;
  return {
    delivered: [...receiver.delivered.keys()].filter(ofRule).length,
    duplicated: receiver.duplicates().filter(ofRule),
    resentAfterDeadline: receiver.resentAfterDeadline().filter(ofRule),
  };
}

function result(
  drill: string,
  t0: number,
  sent: number,
  delivered: number,
  dup: string[],
  notes: string[],
  extraOk = true,
): DrillResult {
  if (dup.length) notes.push(`duplicated keys: ${dup.slice(0, 5).join(', ')}${dup.length > 5 ? ' …' : ''}`);
  return {
    drill,
    sent,
    delivered,
    duplicated: dup.length,
    ok: delivered === sent && dup.length === 0 && extraOk,
    seconds: Math.round((Date.now() - t0) / 100) / 10,
    notes,
  };
}

/**
 * Drill 1: `count` runs sleep `delaySeconds`; the worker is SIGKILLed while they sleep (2 s after the
 * first event, whatever ingest has reached: events keep coming in while it is dead) and started again
 * after `downMs`. Every run must deliver once.
 *
 * With `killWhenDelivered`, the kill instead lands while deliveries are in flight (once that many have
 * arrived): the drill then probes the at-least-once window of docs/channels.md (a send that reached
 * the receiver but was not yet recorded in the ledger is sent again after the restart).
 */
export async function workerKillDrill(
  env: DrillEnv,
  opts: { count: number; delaySeconds: number; downMs: number; killWhenDelivered?: number; label?: string },
): Promise<DrillResult> {
  const t0 = Date.now();
  const tag = `d1-${nonce()}`;
  const account = await env.createAccount('drill worker kill');
  const rule = await env.createRule(
    account,
    webhookRule('drill 1', 'drill.worker_kill', env.receiver.url('/d1'), opts.delaySeconds),
  );
  const ingestStart = Date.now();
  let accepted = 0;
  const ingest = closedLoop(25, opts.count, async (i) => {
    await sendEvent(env, account, 'drill.worker_kill', `${tag}-${i}`, i, 30_000);
    accepted++;
  });
  if (opts.killWhenDelivered !== undefined) {
    const n = opts.killWhenDelivered;
    await waitFor(
      'deliveries to start',
      () => (tally(env.receiver, rule.id).delivered >= n ? true : undefined),
      120_000,
      5,
    );
  } else {
    await sleep(Math.max(0, ingestStart + Math.min(2000, opts.delaySeconds * 1000 - 1000) - Date.now()));
  }
  env.worker.kill();
  const killedAt = Date.now();
  const before = tally(env.receiver, rule.id).delivered;
  const acceptedAtKill = accepted;
  await ingest;
  const ingestMs = Date.now() - ingestStart;
  env.log(
    `drill 1: worker SIGKILLed with ${acceptedAtKill} events accepted and ${before} delivered; down ${opts.downMs} ms`,
  );
  await sleep(Math.max(0, killedAt + opts.downMs - Date.now()));
  await env.worker.start();
  await waitFor(
    `${opts.count} deliveries`,
    () => (tally(env.receiver, rule.id).delivered >= opts.count ? true : undefined),
    60_000 + opts.count * 200,
    200,
  ).catch(() => undefined);
  await sleep(3000); // late duplicates
  const t = tally(env.receiver, rule.id);
  return result(opts.label ?? '1 worker SIGKILL', t0, opts.count, t.delivered, t.duplicated, [
    `killed ${killedAt - ingestStart} ms after the first event, with ${acceptedAtKill} accepted (ingest took ${ingestMs} ms) and ${before} delivered; ${t.delivered - before} delivered after the restart`,
  ]);
}

/** Drill 5: the receiver answers 503 three times per key, then 200: each delivered once, after 3 retries. */
export async function flakyWebhookDrill(env: DrillEnv, opts: { count: number }): Promise<DrillResult> {
  const t0 = Date.now();
  const tag = `d5-${nonce()}`;
  const account = await env.createAccount('drill flaky webhook');
  const rule = await env.createRule(
    account,
    webhookRule('drill 5', 'drill.flaky', env.receiver.url('/d5'), 0),
  );
  const prev = env.receiver.respond;
  const mine = (key: string) => eventIdOfKey(key, rule.id) !== null;
  env.receiver.respond = (key, n) => (mine(key) ? (n <= 3 ? 503 : 200) : prev(key, n));
  try {
    await closedLoop(10, opts.count, (i) =>
      sendEvent(env, account, 'drill.flaky', `${tag}-${i}`, i, 10_000).then(() => undefined),
    );
    await waitFor(
      `${opts.count} deliveries`,
      () => (env.receiver.deliveredWhere(mine) >= opts.count ? true : undefined),
      60_000,
      200,
    ).catch(() => undefined);
    await sleep(2000);
    const keys = [...env.receiver.attempts].filter(([k]) => mine(k));
    const delivered = keys.filter(([k]) => (env.receiver.delivered.get(k) ?? 0) >= 1).length;
    const dup = keys.filter(([k]) => (env.receiver.delivered.get(k) ?? 0) > 1).map(([k]) => k);
    const attempts = keys.map(([, n]) => n);
    const wrongAttempts = attempts.filter((n) => n !== 4).length;
    return result(
      '5 webhook 503 ×3',
      t0,
      opts.count,
      delivered,
      dup,
      [
        `attempts per key: ${[...new Set(attempts)].sort().join('/')} (expected 4)`,
        ...(wrongAttempts ? [`${wrongAttempts} keys without exactly 4 attempts`] : []),
      ],
      wrongAttempts === 0,
    );
  } finally {
    env.receiver.respond = prev;
  }
}

/** Drill 6: `count` POST /events with `distinct` ids, all at once: `distinct` runs, one delivery each. */
export async function duplicateEventsDrill(
  env: DrillEnv,
  opts: { count: number; distinct: number },
): Promise<DrillResult> {
  const t0 = Date.now();
  const tag = `d6-${nonce()}`;
  const account = await env.createAccount('drill duplicates');
  const rule = await env.createRule(
    account,
    webhookRule('drill 6', 'drill.dupes', env.receiver.url('/d6'), 0),
  );
  const statuses = new Map<number, number>();
  const workflowIds = new Map<string, Set<string>>();
  await Promise.all(
    Array.from({ length: opts.count }, async (_, i) => {
      const id = `${tag}-${i % opts.distinct}`;
      const r = await http('POST', `${env.apiUrl}/events`, {
        token: account.apiKey,
        body: { id, name: 'drill.dupes', payload: { job: { number: i % opts.distinct } } },
      }).catch(() => ({ status: 0, body: null, headers: new Headers() }));
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      if (r.body?.workflowId)
        workflowIds.set(id, new Set([...(workflowIds.get(id) ?? []), r.body.workflowId]));
    }),
  );
  const accepted = statuses.get(202) ?? 0;
  const dupAnswers = statuses.get(200) ?? 0;
  await waitFor(
    `${opts.distinct} deliveries`,
    () => (tally(env.receiver, rule.id).delivered >= opts.distinct ? true : undefined),
    60_000,
    200,
  ).catch(() => undefined);
  await sleep(2000);
  // Visibility is eventually consistent: wait for the count to settle.
  let runs = 0;
  await waitFor(
    'the run count to settle',
    async () => {
      runs = (await env.client.workflow.count(`RuleId='${rule.id}'`)).count;
      return runs >= opts.distinct ? true : undefined;
    },
    20_000,
    500,
  ).catch(() => undefined);
  await sleep(1000);
  runs = (await env.client.workflow.count(`RuleId='${rule.id}'`)).count;
  const t = tally(env.receiver, rule.id);
  const oneWorkflowPerId = [...workflowIds.values()].every((s) => s.size === 1);
  const r = result(
    '6 duplicate event ids',
    t0,
    opts.distinct,
    t.delivered,
    t.duplicated,
    [
      `${opts.count} requests with ${opts.distinct} distinct ids; answers: ${[...statuses].map(([s, n]) => `${n}× ${s}`).join(', ')}; rule runs in Temporal: ${runs}`,
      ...(oneWorkflowPerId ? [] : ['an event id was answered with two different workflow ids']),
    ],
    accepted === opts.distinct &&
      dupAnswers === opts.count - opts.distinct &&
      runs === opts.distinct &&
      oneWorkflowPerId,
  );
  return { ...r, sent: opts.count };
}

/** Drill 7: the bad-request corpus; every answer 4xx with an error code, none 5xx, the API healthy after. */
export async function badRequestsDrill(env: DrillEnv): Promise<DrillResult & { failures: string[] }> {
  const t0 = Date.now();
  const a = await env.createAccount('drill corpus A');
  const b = await env.createAccount('drill corpus B');
  const ctx: CorpusContext = {
    adminToken: env.adminToken,
    a: await seed(env, a, 'a-template'),
    b: await seed(env, b, 'b-only-template-x'),
  };
  const cases = buildCorpus(ctx);
  const outcomes = await runCorpus(env.apiUrl, cases, 8);
  const failures = outcomes
    .filter((o) => !o.ok)
    .map((o) => `${o.case.method} ${o.case.path.slice(0, 80)} [${o.case.name}] → ${o.status} ${o.snippet}`);
  const fiveXX = outcomes.filter((o) => o.status >= 500).length;
  const byStatus = new Map<number, number>();
  for (const o of outcomes) byStatus.set(o.status, (byStatus.get(o.status) ?? 0) + 1);
  const health = await http('GET', `${env.apiUrl}/healthz`);
  const ready = await http('GET', `${env.apiUrl}/readyz`);
  const stillWorks = await http('POST', `${env.apiUrl}/events`, {
    token: a.apiKey,
    body: { name: 'drill.after', payload: {} },
  });
  const untouched = await http('GET', `${env.apiUrl}/rules/${ctx.a.ruleId}`, { token: a.apiKey });
  const healthy =
    health.status === 200 &&
    ready.status === 200 &&
    stillWorks.status === 202 &&
    untouched.body?.version === 1;
  const notes = [
    `${cases.length} requests: ${[...byStatus]
      .sort((x, y) => x[0] - y[0])
      .map(([s, n]) => `${n}× ${s}`)
      .join(', ')}`,
    `5xx: ${fiveXX}; without an error code: ${outcomes.filter((o) => o.status < 500 && !o.hasCode).length}; slowest ${Math.round(Math.max(...outcomes.map((o) => o.ms)))} ms`,
    `after: healthz ${health.status}, readyz ${ready.status}, POST /events ${stillWorks.status}, rule A version ${untouched.body?.version}`,
  ];
  return {
    drill: '7 bad requests',
    sent: cases.length,
    delivered: outcomes.filter((o) => o.ok).length,
    duplicated: 0,
    ok: failures.length === 0 && healthy,
    seconds: Math.round((Date.now() - t0) / 100) / 10,
    notes,
    failures,
  };
}

/**
 * Drill 8: schemathesis over GET /openapi.json (scripts/schemathesis.ts), as two fresh accounts that
 * must not see each other's objects and the admin: the document's examples, boundary values of every
 * schema keyword, `maxExamples` random cases per operation, and create → read → update → delete
 * chains. No 5xx, every answer as documented (status, content type, schema), and the API healthy after.
 * Run it without a worker: the fuzzer's rules name webhook hosts it made up, and nothing should go there.
 */
export async function fuzzDrill(
  env: DrillEnv,
  opts: { maxExamples: number; seed: number; timeoutMs: number },
): Promise<DrillResult & { failures: string[] }> {
  const t0 = Date.now();
  const a = await env.createAccount('drill fuzz A');
  const b = await env.createAccount('drill fuzz B');
  const s = await runSchemathesis({
    baseUrl: env.apiUrl,
    apiKey: a.apiKey,
    peerApiKey: b.apiKey,
    adminToken: env.adminToken,
    ...opts,
  });
  const health = await http('GET', `${env.apiUrl}/healthz`);
  const ready = await http('GET', `${env.apiUrl}/readyz`);
  const stillWorks = await http('POST', `${env.apiUrl}/events`, {
    token: a.apiKey,
    body: { name: 'drill.after_fuzz', payload: {} },
  });
  const healthy = health.status === 200 && ready.status === 200 && stillWorks.status === 202;
  const answered = s.requests - s.serverErrors.length - (s.byStatus['no answer'] ?? 0);
  return {
    drill: '8 schemathesis fuzz',
    sent: s.requests,
    delivered: answered,
    duplicated: 0,
    ok: s.requests > 0 && s.exitCode === 0 && !s.serverErrors.length && !s.errors.length && healthy,
    seconds: Math.round((Date.now() - t0) / 100) / 10,
    notes: [
      ...describeFuzz(s).slice(0, 3),
      `seed ${opts.seed}, at most ${opts.maxExamples} random cases per operation`,
      `after: healthz ${health.status}, readyz ${ready.status}, POST /events ${stillWorks.status}`,
    ],
    failures: [
      ...s.serverErrors.map((e) => `5xx ${e}`),
      ...s.failures,
      ...s.errors.map((e) => `error ${e}`),
      ...(s.exitCode !== 0 && !s.timedOut ? s.outputTail.split('\n').slice(-80) : []),
    ],
  };
}

/** A rule, a user, a template and a run for the corpus (account B's are the "other account's ids"). */
async function seed(env: DrillEnv, account: Account, templateId: string): Promise<CorpusContext['a']> {
  const rule = await env.createRule(
    account,
    webhookRule('corpus rule', 'corpus.event', env.receiver.url('/corpus'), 3600),
  );
  const user = await http('POST', `${env.apiUrl}/users`, {
    token: account.apiKey,
    body: { externalId: 'u-1', name: 'Corpus User', email: 'corpus@example.com', phone: '+15551234567' },
  });
  const template = await http('PUT', `${env.apiUrl}/templates/${templateId}`, {
    token: account.apiKey,
    body: { name: 'Corpus', subject: 'Hi {{user.name}}', text: 'Job {{job.number}}' },
  });
  const event = await http('POST', `${env.apiUrl}/events`, {
    token: account.apiKey,
    body: { id: `corpus-${nonce()}`, name: 'corpus.event', payload: { job: { number: 1 } } },
  });
  if (user.status !== 201 || template.status >= 300 || event.status !== 202) {
    throw new Error(
      `corpus seed failed: users ${user.status}, templates ${template.status}, events ${event.status}`,
    );
  }
  return {
    apiKey: account.apiKey,
    accountId: account.id,
    ruleId: rule.id,
    userId: user.body.id,
    templateId,
    eventWorkflowId: event.body.workflowId,
    runWorkflowId: `run-${rule.id}-${event.body.eventId}`,
  };
}
