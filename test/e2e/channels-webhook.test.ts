/**
 * Webhook delivery against real receivers on 127.0.0.1: signature, idempotency key across retries,
 * retryable and permanent answers, the timeout, redirects, and internal targets refused at send time.
 */
import type { LookupAddress } from 'node:dns';
import { CancelledFailure } from '@temporalio/common';
import type { DataSource } from 'typeorm';
import {
  BODY_SNIPPET_BYTES,
  USER_AGENT,
  WEBHOOK_TIMEOUT_MS,
  retryAfterMs,
  signWebhook,
} from '../../src/activities/channels';
import { findDelivery } from '../../src/activities/ledger';
import type { Resolver } from '../../src/shared/net';
import type { CreatedAccount } from '../../src/services/accounts';
import {
  PERMANENT,
  TRANSIENT,
  activities,
  attempt,
  deliveryContext,
  environment,
  failureOf,
  openTestDb,
  testAccount,
  testConfig,
  type ChannelActivities,
} from '../helpers/servers/harness';
import { WebhookReceiver, verifySignature } from '../helpers/servers/webhook';

const TEST_TIMEOUT_MS = 1500;

let db: DataSource;
let account: CreatedAccount;
let acts: ChannelActivities;
const receivers: WebhookReceiver[] = [];

async function receiver(...script: Parameters<typeof WebhookReceiver.start>): Promise<WebhookReceiver> {
  const r = await WebhookReceiver.start(...script);
  receivers.push(r);
  return r;
}

const hook = (url: string, payload: unknown = { job: { number: 42 } }) => ({
  index: 0,
  type: 'webhook' as const,
  url,
  method: 'POST' as const,
  payload,
});

beforeAll(async () => {
  db = await openTestDb();
  account = await testAccount(db, 'Webhooks');
  acts = activities({
    db,
    config: testConfig({ WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' }),
    timeouts: { webhookMs: TEST_TIMEOUT_MS },
  });
});

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.stop()));
  await db?.destroy();
});

describe('a delivered webhook', () => {
  test('carries the rendered JSON, a verifiable signature and the idempotency key', async () => {
    const r = await receiver();
    const ctx = deliveryContext(account.id);
    const payload = { job: { number: 42, total: 2500 }, note: 'Tom’s <b>"quote"</b>' };
    const result = await attempt(1, acts.sendWebhook, ctx, hook(r.url('/hooks/crm?x=1'), payload));

    expect(result).toMatchObject({ via: 'provider', status: 200, attempts: 1 });
    expect(r.requests).toHaveLength(1);
    const req = r.requests[0];
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/hooks/crm?x=1');
    expect(JSON.parse(req.body)).toEqual(payload);
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['user-agent']).toBe(USER_AGENT);
    expect(req.headers['idempotency-key']).toBe(ctx.idempotencyKey);
    const sig = String(req.headers['x-signature']);
    expect(sig).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifySignature(account.webhookSecret, sig, req.body)).toBe(true);
    // Signed with this account's secret over exactly these bytes, and nothing else verifies.
    expect(verifySignature('whsec_someone_else', sig, req.body)).toBe(false);
    expect(verifySignature(account.webhookSecret, sig, req.body.replace('42', '43'))).toBe(false);
    const t = Number(/t=(\d+)/.exec(sig)![1]);
    expect(sig).toBe(signWebhook(account.webhookSecret, req.body, t));
    expect(Math.abs(Date.now() / 1000 - t)).toBeLessThan(10);
    expect(JSON.stringify(req.headers)).not.toContain(account.webhookSecret);

    const recorded = await findDelivery(db, ctx.idempotencyKey);
    expect(recorded).toMatchObject({ channel: 'webhook', accountId: account.id, actionIndex: 0 });
  });

  test.each(['PUT', 'PATCH'] as const)('%s is sent with its method', async (method) => {
    const r = await receiver();
    await attempt(1, acts.sendWebhook, deliveryContext(account.id), { ...hook(r.url()), method });
    expect(r.requests.map((q) => q.method)).toEqual([method]);
  });
});

describe('retries', () => {
  test('a receiver that fails twice then succeeds: three attempts, one key, each signed', async () => {
    const r = await receiver({ status: 503, body: 'down' }, { status: 500, body: 'still down' });
    const ctx = deliveryContext(account.id);
    const msg = hook(r.url());

    const first = await failureOf(attempt(1, acts.sendWebhook, ctx, msg));
    expect(first.type).toBe(TRANSIENT);
    expect(first.nonRetryable).toBe(false);
    expect(first.info).toMatchObject({ channel: 'webhook', status: 503, body: 'down', attempt: 1 });
    const second = await failureOf(attempt(2, acts.sendWebhook, ctx, msg));
    expect(second.info).toMatchObject({ status: 500, attempt: 2 });
    expect(await findDelivery(db, ctx.idempotencyKey)).toBeNull();

    const third = await attempt(3, acts.sendWebhook, ctx, msg);
    expect(third).toMatchObject({ via: 'provider', attempts: 3 });
    expect(r.requests).toHaveLength(3);
    expect(new Set(r.requests.map((q) => q.headers['idempotency-key']))).toEqual(
      new Set([ctx.idempotencyKey]),
    );
    for (const q of r.requests) {
      expect(verifySignature(account.webhookSecret, String(q.headers['x-signature']), q.body)).toBe(true);
    }
  });

  test('408 and 429 are retryable; 429 and 503 honour Retry-After as the next retry delay', async () => {
    const r = await receiver(
      { status: 408 },
      { status: 429, headers: { 'Retry-After': '7' } },
      { status: 503, headers: { 'Retry-After': new Date(Date.now() + 30_000).toUTCString() } },
    );
    const ctx = deliveryContext(account.id);
    const timeout = await failureOf(attempt(1, acts.sendWebhook, ctx, hook(r.url())));
    expect(timeout).toMatchObject({ type: TRANSIENT, nonRetryable: false });
    expect(timeout.nextRetryDelay).toBeUndefined();
    const limited = await failureOf(attempt(2, acts.sendWebhook, ctx, hook(r.url())));
    expect(limited).toMatchObject({ type: TRANSIENT, nextRetryDelay: 7000 });
    expect(limited.info.retryAfterMs).toBe(7000);
    const dated = await failureOf(attempt(3, acts.sendWebhook, ctx, hook(r.url())));
    expect(dated.nextRetryDelay).toBeGreaterThan(25_000);
    expect(dated.nextRetryDelay).toBeLessThanOrEqual(30_000);
  });

  test('Retry-After is read as seconds or a date and capped at the policy maximum', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs('3', now)).toBe(3000);
    expect(retryAfterMs('0', now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(undefined, now)).toBeUndefined();
    expect(retryAfterMs('Thu, 01 Jan 2026 00:01:00 GMT', now)).toBe(60_000);
    expect(retryAfterMs('86400', now)).toBe(10 * 60_000);
  });

  test('a refused connection is retryable', async () => {
    const r = await receiver();
    const url = r.url();
    await r.stop();
    receivers.splice(receivers.indexOf(r), 1);
    const f = await failureOf(attempt(1, acts.sendWebhook, deliveryContext(account.id), hook(url)));
    expect(f).toMatchObject({ type: TRANSIENT, nonRetryable: false });
    expect(f.message).toContain('ECONNREFUSED');
  });
});

describe('permanent failures', () => {
  test('400: one attempt, not retryable, status and the first 1 KB of the body kept', async () => {
    const body = 'invalid payload: ' + 'é'.repeat(600) + 'x'.repeat(2000);
    const r = await receiver({ status: 400, body });
    const f = await failureOf(attempt(1, acts.sendWebhook, deliveryContext(account.id), hook(r.url())));
    expect(f.type).toBe(PERMANENT);
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toContain('400');
    expect(f.info.status).toBe(400);
    // 1 KB of UTF-8, cut on a character boundary ('é' is two bytes: 17 + 2 × 503 = 1023).
    expect(Buffer.byteLength(f.info.body!)).toBeLessThanOrEqual(BODY_SNIPPET_BYTES);
    expect(Buffer.byteLength(f.info.body!)).toBeGreaterThan(BODY_SNIPPET_BYTES - 4);
    expect(f.info.body).not.toContain('\uFFFD');
    expect(body.startsWith(f.info.body!)).toBe(true);
    expect(r.requests).toHaveLength(1);
  });

  test.each([401, 404, 410, 422])('%i is permanent', async (status) => {
    const r = await receiver({ status });
    const f = await failureOf(attempt(1, acts.sendWebhook, deliveryContext(account.id), hook(r.url())));
    expect(f).toMatchObject({ type: PERMANENT, nonRetryable: true });
    expect(f.info.status).toBe(status);
  });

  test('an account that no longer exists is permanent', async () => {
    const r = await receiver();
    const f = await failureOf(attempt(1, acts.sendWebhook, deliveryContext('acc_gone'), hook(r.url())));
    expect(f.type).toBe(PERMANENT);
    expect(r.requests).toHaveLength(0);
  });
});

describe('timeouts and cancellation', () => {
  test('the product deadline is 10 s', () => {
    expect(WEBHOOK_TIMEOUT_MS).toBe(10_000);
  });

  test('a receiver that hangs past the deadline is a retryable timeout', async () => {
    const r = await receiver({ hang: true });
    const started = Date.now();
    const f = await failureOf(attempt(1, acts.sendWebhook, deliveryContext(account.id), hook(r.url())));
    const took = Date.now() - started;
    expect(f).toMatchObject({ type: TRANSIENT, nonRetryable: false });
    expect(f.message).toContain(`timed out after ${TEST_TIMEOUT_MS} ms`);
    expect(took).toBeGreaterThanOrEqual(TEST_TIMEOUT_MS - 50);
    expect(took).toBeLessThan(TEST_TIMEOUT_MS + 2000);
  });

  test('an error body that never ends does not hold the attempt past the deadline', async () => {
    const r = await receiver({ drip: 400 });
    const started = Date.now();
    const f = await failureOf(attempt(1, acts.sendWebhook, deliveryContext(account.id), hook(r.url())));
    expect(Date.now() - started).toBeLessThan(TEST_TIMEOUT_MS + 2000);
    expect(f.info).toMatchObject({ status: 400, body: expect.stringMatching(/^x/) });
  });

  test('cancelling the activity aborts the request', async () => {
    const r = await receiver({ hang: true });
    const env = environment();
    const running = env.run(acts.sendWebhook, deliveryContext(account.id), hook(r.url()));
    setTimeout(() => env.cancel(), 200);
    const started = Date.now();
    await expect(running).rejects.toBeInstanceOf(CancelledFailure);
    expect(Date.now() - started).toBeLessThan(TEST_TIMEOUT_MS);
  });
});

describe('redirects are not followed', () => {
  test('302 to the metadata service fails permanently without following', async () => {
    const r = await receiver({
      status: 302,
      headers: { Location: 'http://169.254.169.254/latest/meta-data/iam/security-credentials/' },
    });
    const started = Date.now();
    const f = await failureOf(attempt(1, acts.sendWebhook, deliveryContext(account.id), hook(r.url())));
    expect(Date.now() - started).toBeLessThan(TEST_TIMEOUT_MS);
    expect(f).toMatchObject({ type: PERMANENT, nonRetryable: true });
    expect(f.info.status).toBe(302);
    expect(f.message).toContain('169.254.169.254');
    expect(f.message).toContain('not followed');
    // Only the host is named: the path of a Location may carry tokens.
    expect(f.message).not.toContain('security-credentials');
    expect(r.requests).toHaveLength(1);
  });

  test('307 to another path of the same receiver is not followed either', async () => {
    const r = await receiver();
    r.queue({ status: 307, headers: { Location: r.url('/elsewhere') } });
    const f = await failureOf(
      attempt(1, acts.sendWebhook, deliveryContext(account.id), hook(r.url('/first'))),
    );
    expect(f.type).toBe(PERMANENT);
    expect(r.requests.map((q) => q.path)).toEqual(['/first']);
  });
});

describe('internal targets are refused at send time', () => {
  let strict: ChannelActivities;
  beforeAll(() => {
    strict = activities({
      db,
      config: testConfig({ WEBHOOK_ALLOWED_HOSTS: '' }),
      timeouts: { webhookMs: 1500 },
    });
  });

  test('a hostname that resolves to a loopback address is refused by the connection lookup', async () => {
    const r = await receiver();
    // Not refused by name: the send-time check resolves `localhost` and refuses 127.0.0.1.
    const f = await failureOf(
      attempt(1, strict.sendWebhook, deliveryContext(account.id), hook(r.url('/hook', 'localhost'))),
    );
    expect(f).toMatchObject({ type: PERMANENT, nonRetryable: true });
    expect(f.message).toMatch(/localhost resolves to (127\.0\.0\.1|::1)/);
    expect(r.requests).toHaveLength(0);
  });

  test('a public-looking name whose DNS answer is private is refused, and one private answer is enough', async () => {
    const r = await receiver();
    const answers: Record<string, LookupAddress[]> = {
      'hooks.example.com': [{ address: '10.20.30.40', family: 4 }],
      'mixed.example.com': [
        { address: '93.184.216.34', family: 4 },
        { address: '127.0.0.1', family: 4 },
      ],
    };
    const resolve: Resolver = (hostname, _o, cb) => cb(null, answers[hostname] ?? []);
    const rebinding = activities({ db, config: testConfig(), resolve, timeouts: { webhookMs: 1500 } });
    for (const host of Object.keys(answers)) {
      const f = await failureOf(
        attempt(1, rebinding.sendWebhook, deliveryContext(account.id), hook(`http://${host}:${r.port}/hook`)),
      );
      expect(f.type).toBe(PERMANENT);
      expect(f.message).toContain(`${host} resolves to`);
    }
    expect(r.requests).toHaveLength(0);
  });

  test.each([
    'http://127.0.0.1:PORT/hook',
    'http://[::1]:PORT/hook',
    'http://[::ffff:127.0.0.1]:PORT/hook',
    'http://0.0.0.0:PORT/hook',
    'http://2130706433:PORT/hook',
    'http://169.254.169.254/latest/meta-data/',
    'http://10.0.0.1/hook',
    'http://192.168.1.1/hook',
    'http://[fd00:ec2::254]/hook',
  ])('literal %s is refused without connecting', async (template) => {
    const r = await receiver();
    const url = template.replace('PORT', String(r.port));
    const started = Date.now();
    const f = await failureOf(attempt(1, strict.sendWebhook, deliveryContext(account.id), hook(url)));
    expect(f).toMatchObject({ type: PERMANENT, nonRetryable: true });
    expect(f.message).toContain('WEBHOOK_ALLOWED_HOSTS');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(r.requests).toHaveLength(0);
  });

  test('WEBHOOK_ALLOWED_HOSTS lets a named internal host through', async () => {
    const r = await receiver();
    const allowed = activities({ db, config: testConfig({ WEBHOOK_ALLOWED_HOSTS: 'localhost' }) });
    const result = await attempt(
      1,
      allowed.sendWebhook,
      deliveryContext(account.id),
      hook(r.url('/h', 'localhost')),
    );
    expect(result.via).toBe('provider');
    expect(r.requests).toHaveLength(1);
  });
});
