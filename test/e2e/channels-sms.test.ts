/**
 * SMS over a Twilio-compatible REST API on 127.0.0.1: basic auth, form fields, the message sid kept,
 * Twilio's 4xx errors tried once, 429/5xx retried after Retry-After, the token never in a failure,
 * and the outbox when TWILIO_* is not set.
 */
import type { DataSource } from 'typeorm';
import { TWILIO_TIMEOUT_MS } from '../../src/activities/channels';
import { findDelivery } from '../../src/activities/ledger';
import { OutboxEntity } from '../../src/db/entities';
import type { CreatedAccount } from '../../src/services/accounts';
import {
  PERMANENT,
  TRANSIENT,
  activities,
  attempt,
  deliveryContext,
  failureOf,
  openTestDb,
  testAccount,
  testConfig,
  type ChannelActivities,
} from '../helpers/servers/harness';
import { TwilioTestServer, twilioError } from '../helpers/servers/twilio';

const SID = 'AC0123456789abcdef0123456789abcdef';
const TOKEN = 'twilio-token-7f3e9a1c5b2d4e6f8a0b';
const FROM = '+15550001111';

let db: DataSource;
let account: CreatedAccount;
let twilio: TwilioTestServer;
let acts: ChannelActivities;

const sms = (to: string, body = 'Hi Ana, job #42 is done') => ({ index: 0, type: 'sms' as const, to, body });

function twilioConfig(token = TOKEN, baseUrl = twilio.url) {
  return testConfig({
    TWILIO_ACCOUNT_SID: SID,
    TWILIO_AUTH_TOKEN: token,
    TWILIO_FROM: FROM,
    TWILIO_API_BASE_URL: baseUrl,
  });
}

beforeAll(async () => {
  db = await openTestDb();
  account = await testAccount(db, 'SMS');
  twilio = await TwilioTestServer.start(SID, TOKEN);
  acts = activities({ db, config: twilioConfig() });
});

afterAll(async () => {
  await twilio?.stop();
  await db?.destroy();
});

test('a message is posted with basic auth and To/From/Body, and its sid is recorded', async () => {
  const to = '+15551230001';
  const ctx = deliveryContext(account.id);
  const body = 'Hi Ana, job #42 is done — 100% “ready” & paid';
  const result = await attempt(1, acts.sendSms, ctx, sms(to, body));

  const [req] = twilio.requestsTo(to);
  expect(twilio.requestsTo(to)).toHaveLength(1);
  expect(req.method).toBe('POST');
  expect(req.path).toBe(`/2010-04-01/Accounts/${SID}/Messages.json`);
  expect(req.authorization).toBe(`Basic ${Buffer.from(`${SID}:${TOKEN}`).toString('base64')}`);
  expect(req.contentType).toMatch(/^application\/x-www-form-urlencoded/);
  expect(req.form).toEqual({
    To: to,
    From: FROM,
    Body: body,
    StatusCallback: 'http://127.0.0.1:3000/webhooks/twilio/status',
  });

  expect(result).toMatchObject({ via: 'provider', status: 201, attempts: 1 });
  expect(result.providerId).toMatch(/^SM[0-9a-f]{32}$/);
  expect(twilio.sids).toContain(result.providerId);
  expect(await findDelivery(db, ctx.idempotencyKey)).toMatchObject({
    channel: 'sms',
    providerId: result.providerId,
  });
});

test('21211 (invalid To) is permanent and tried once, with Twilio’s code and message', async () => {
  const to = '+15551230002';
  twilio.queue(to, twilioError(400, 21211, "The 'To' number +15551230002 is not a valid phone number."));
  const f = await failureOf(attempt(1, acts.sendSms, deliveryContext(account.id), sms(to)));
  expect(f.type).toBe(PERMANENT);
  expect(f.nonRetryable).toBe(true);
  expect(f.message).toContain('21211');
  expect(f.message).toContain('is not a valid phone number');
  expect(f.info).toMatchObject({ channel: 'sms', status: 400, code: 21211, attempt: 1 });
  expect(twilio.requestsTo(to)).toHaveLength(1);
});

test('429 with Retry-After is retried after that delay, then delivered once', async () => {
  const to = '+15551230003';
  twilio.queue(to, { ...twilioError(429, 20429, 'Too Many Requests'), headers: { 'Retry-After': '3' } });
  const ctx = deliveryContext(account.id);
  const f = await failureOf(attempt(1, acts.sendSms, ctx, sms(to)));
  expect(f.type).toBe(TRANSIENT);
  expect(f.nonRetryable).toBe(false);
  expect(f.nextRetryDelay).toBe(3000);
  expect(f.info).toMatchObject({ status: 429, code: 20429, retryAfterMs: 3000 });
  expect(await findDelivery(db, ctx.idempotencyKey)).toBeNull();

  const ok = await attempt(2, acts.sendSms, ctx, sms(to));
  expect(ok).toMatchObject({ via: 'provider', attempts: 2 });
  expect(twilio.requestsTo(to)).toHaveLength(2);
});

test('5xx is retryable; without Retry-After the policy’s backoff applies', async () => {
  const to = '+15551230004';
  twilio.queue(to, { status: 503, body: 'upstream unavailable' });
  const f = await failureOf(attempt(1, acts.sendSms, deliveryContext(account.id), sms(to)));
  expect(f).toMatchObject({ type: TRANSIENT, nonRetryable: false });
  expect(f.nextRetryDelay).toBeUndefined();
  expect(f.info).toMatchObject({ status: 503, body: 'upstream unavailable' });
});

test('the auth token never appears in a failure, even when the provider echoes it back', async () => {
  const wrong = 'wrong-token-c0ffee-9b8a7f6e5d4c3b2a';
  const bad = activities({ db, config: twilioConfig(wrong) });
  const f = await failureOf(attempt(1, bad.sendSms, deliveryContext(account.id), sms('+15551230005')));
  // The fake Twilio answers 401 with the Authorization header and the decoded credentials in its body.
  // Bad credentials are retried, as SMTP's are: fixing the configuration delivers what waited.
  expect(f.type).toBe(TRANSIENT);
  expect(f.info.status).toBe(401);
  expect(f.info.body).toContain('[redacted]');
  const everything = JSON.stringify({
    message: f.message,
    details: f.details,
    stack: f.stack,
    cause: f.cause,
  });
  expect(everything).not.toContain(wrong);
  expect(everything).not.toContain(Buffer.from(`${SID}:${wrong}`).toString('base64'));
  expect(everything).not.toContain(TOKEN);
});

test('Twilio unreachable is retryable and does not leak the token either', async () => {
  const down = await TwilioTestServer.start(SID, TOKEN);
  const url = down.url;
  await down.stop();
  const unreachable = activities({ db, config: twilioConfig(TOKEN, url) });
  const f = await failureOf(
    attempt(1, unreachable.sendSms, deliveryContext(account.id), sms('+15551230006')),
  );
  expect(f).toMatchObject({ type: TRANSIENT, nonRetryable: false });
  expect(f.message).toContain('ECONNREFUSED');
  expect(JSON.stringify({ m: f.message, d: f.details })).not.toContain(TOKEN);
});

test('a recipient that is not E.164 is permanent without a request', async () => {
  const before = twilio.requests.length;
  const f = await failureOf(attempt(1, acts.sendSms, deliveryContext(account.id), sms('0170 1234567')));
  expect(f.type).toBe(PERMANENT);
  expect(twilio.requests).toHaveLength(before);
});

test('the product deadline for a Twilio request is 15 s', () => {
  expect(TWILIO_TIMEOUT_MS).toBe(15_000);
});

describe('without TWILIO_* the message goes to the outbox', () => {
  test('stored once with its recipient, body and run; a retry does not store it again', async () => {
    const outboxActs = activities({ db, config: testConfig() });
    const ctx = deliveryContext(account.id, 2);
    const first = await attempt(1, outboxActs.sendSms, ctx, sms('+15551230007', 'Reminder: job #7 tomorrow'));
    expect(first).toMatchObject({ via: 'outbox', providerId: expect.stringMatching(/^msg_/) });
    const again = await attempt(2, outboxActs.sendSms, ctx, sms('+15551230007', 'Reminder: job #7 tomorrow'));
    expect(again).toMatchObject({ via: 'ledger', providerId: first.providerId });

    const rows = await db.getRepository(OutboxEntity).findBy({ idempotencyKey: ctx.idempotencyKey });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      id: first.providerId,
      accountId: account.id,
      channel: 'sms',
      recipient: '+15551230007',
      body: 'Reminder: job #7 tomorrow',
      subject: null,
      html: null,
      workflowId: ctx.workflowId,
      ruleId: ctx.ruleId,
    });
    expect(await findDelivery(db, ctx.idempotencyKey)).toMatchObject({
      channel: 'sms',
      providerId: first.providerId,
    });
    expect(twilio.requestsTo('+15551230007')).toHaveLength(0);
  });
});
