/**
 * Consent and proof at the delivery activities, on real parts (PostgreSQL, the Twilio-compatible
 * server, a real SMTP server, webhook receivers): suppressed numbers, addresses and users are skipped,
 * SMS bounds and masking, the email headers, and webhook signatures checked by the `stripe` and
 * `standardwebhooks` libraries, also during a secret rotation.
 */
import Stripe from 'stripe';
import { Webhook } from 'standardwebhooks';
import type { Transporter } from 'nodemailer';
import type { DataSource } from 'typeorm';
import { AccountEntity, UserEntity } from '../../src/db/entities';
import type { CreatedAccount } from '../../src/services/accounts';
import { writeSuppressions } from '../../src/services/suppressions';
import { newId } from '../../src/shared/ids';
import { newWebhookSecret } from '../../src/shared/signing';
import { readUnsubscribeToken } from '../../src/shared/unsubscribe';
import { createMailer } from '../../src/worker/worker';
import {
  PERMANENT,
  activities,
  attempt,
  deliveryContext,
  failureOf,
  openTestDb,
  testAccount,
  testConfig,
  type ChannelActivities,
} from '../helpers/servers/harness';
import { SmtpTestServer } from '../helpers/servers/smtp';
import { TwilioTestServer, twilioError } from '../helpers/servers/twilio';
import { WebhookReceiver } from '../helpers/servers/webhook';

const SID = 'AC0123456789abcdef0123456789abcdef';
const TOKEN = 'twilio-token-consent-5b2d4e6f8a0b';
const FROM = '+15550002222';
const PUBLIC_URL = 'https://crm.example.test';
const UNSUBSCRIBE_SECRET = 'unsubscribe-secret-for-tests-0123456789';

let db: DataSource;
let account: CreatedAccount;
let twilio: TwilioTestServer;
let smtp: SmtpTestServer;
let mailer: Transporter;
let acts: ChannelActivities;

const sms = (to: string, body = 'Job #42 is done', userId?: string) => ({
  index: 0,
  type: 'sms' as const,
  to,
  body,
  ...(userId && { userId }),
});
const email = (to: string, extra: { userId?: string; transactional?: boolean } = {}) => ({
  index: 0,
  type: 'email' as const,
  to,
  subject: 'Job #42 is done',
  text: 'Thanks!',
  ...extra,
});
const env = {
  TWILIO_ACCOUNT_SID: SID,
  TWILIO_AUTH_TOKEN: TOKEN,
  TWILIO_API_BASE_URL: '',
  PUBLIC_URL,
  UNSUBSCRIBE_SECRET,
  WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
};

async function suppress(channel: 'sms' | 'email', address: string, accountId = account.id) {
  await writeSuppressions(db, [{ op: 'add', accountId, channel, address, reason: 'test', source: 'api' }]);
}

beforeAll(async () => {
  db = await openTestDb();
  account = await testAccount(db, 'Consent delivery');
  twilio = await TwilioTestServer.start(SID, TOKEN);
  smtp = await SmtpTestServer.start();
  env.TWILIO_API_BASE_URL = twilio.url;
  const config = testConfig({ ...env, TWILIO_FROM: FROM, SMTP_URL: smtp.url() });
  mailer = createMailer(config)!;
  acts = activities({ db, config, mailer });
});

afterAll(async () => {
  mailer?.close();
  await twilio?.stop();
  await smtp?.stop();
  await db?.destroy();
});

describe('suppressed recipients are skipped, nothing is sent', () => {
  test('a suppressed number (stored as E.164, looked up as written)', async () => {
    await suppress('sms', '+15551110001');
    const r = await attempt(1, acts.sendSms, deliveryContext(account.id), sms('+15551110001'));
    expect(r).toMatchObject({ via: 'suppressed', providerId: null });
    expect(r.reason).toMatch(/suppression list/);
    expect(twilio.requestsTo('+15551110001')).toEqual([]);
    // Another account's suppression does not apply here.
    const other = await testAccount(db, 'Consent other');
    await suppress('sms', '+15551110002', other.id);
    const sent = await attempt(1, acts.sendSms, deliveryContext(account.id), sms('+15551110002'));
    expect(sent.via).toBe('provider');
  });

  test('a suppressed address, whatever its case', async () => {
    await suppress('email', 'ann.opted@example.com');
    const r = await attempt(1, acts.sendEmail, deliveryContext(account.id), email('Ann.Opted@Example.com'));
    expect(r).toMatchObject({ via: 'suppressed' });
    expect(smtp.messages.filter((m) => m.to.some((t) => /ann\.opted/i.test(t)))).toEqual([]);
  });

  test('a user whose preferences turn a channel off', async () => {
    const userId = newId('user');
    await db.getRepository(UserEntity).insert({
      id: userId,
      accountId: account.id,
      phone: '+15551110003',
      email: 'bo@example.com',
      preferences: { sms: false },
    } as never);
    const r = await attempt(1, acts.sendSms, deliveryContext(account.id), sms('+15551110003', 'Hi', userId));
    expect(r).toMatchObject({ via: 'suppressed', reason: 'the user turned sms off in their preferences' });
    expect(twilio.requestsTo('+15551110003')).toEqual([]);
    // Email stays on for that user.
    const mail = await attempt(
      1,
      acts.sendEmail,
      deliveryContext(account.id),
      email('bo@example.com', { userId }),
    );
    expect(mail.via).toBe('provider');
  });

  test('a transactional email skips the check and the unsubscribe header', async () => {
    await suppress('email', 'receipt@example.com');
    const r = await attempt(
      1,
      acts.sendEmail,
      deliveryContext(account.id),
      email('receipt@example.com', { transactional: true }),
    );
    expect(r.via).toBe('provider');
    const [mail] = smtp.messages.filter((m) => m.to.includes('receipt@example.com'));
    expect(mail.headers['auto-submitted']).toBe('auto-generated');
    expect(mail.headers['list-unsubscribe']).toBeUndefined();
  });
});

test('every automated email carries a signed one-click List-Unsubscribe and Auto-Submitted', async () => {
  const to = 'Cy@Example.com';
  await attempt(1, acts.sendEmail, deliveryContext(account.id), email(to));
  const [mail] = smtp.messages.filter((m) => m.to.some((t) => t.toLowerCase() === to.toLowerCase()));
  expect(mail.headers['auto-submitted']).toBe('auto-generated');
  expect(mail.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
  const m = /^<https:\/\/crm\.example\.test\/unsubscribe\/([A-Za-z0-9_.-]+)>$/.exec(
    mail.headers['list-unsubscribe'],
  );
  expect(m).not.toBeNull();
  expect(readUnsubscribeToken(UNSUBSCRIBE_SECRET, m![1])).toEqual({
    accountId: account.id,
    address: 'cy@example.com',
  });
  expect(readUnsubscribeToken('another-secret-0123456789abcdef', m![1])).toBeNull();
});

describe('SMS to Twilio', () => {
  test('passes StatusCallback, and the account’s own sender when it has one', async () => {
    const own = await testAccount(db, 'Own sender');
    await db.getRepository(AccountEntity).update({ id: own.id }, { smsFrom: '+15550009999' });
    await attempt(1, acts.sendSms, deliveryContext(own.id), sms('+15551110010'));
    expect(twilio.requestsTo('+15551110010')[0].form).toMatchObject({
      From: '+15550009999',
      StatusCallback: `${PUBLIC_URL}/webhooks/twilio/status`,
    });
  });

  test('TWILIO_MESSAGING_SERVICE_SID replaces TWILIO_FROM', async () => {
    const viaService = activities({
      db,
      config: testConfig({ ...env, TWILIO_MESSAGING_SERVICE_SID: 'MG0123456789abcdef0123456789abcdef' }),
    });
    const r = await attempt(1, viaService.sendSms, deliveryContext(account.id), sms('+15551110011'));
    expect(r.via).toBe('provider');
    const [req] = twilio.requestsTo('+15551110011');
    expect(req.form.MessagingServiceSid).toBe('MG0123456789abcdef0123456789abcdef');
    expect(req.form.From).toBeUndefined();
  });

  test('a body over 1,600 characters fails permanently, before Twilio', async () => {
    const f = await failureOf(
      attempt(1, acts.sendSms, deliveryContext(account.id), sms('+15551110012', 'x'.repeat(200_000))),
    );
    expect(f).toMatchObject({ type: PERMANENT, nonRetryable: true });
    expect(f.message).toMatch(/200000 characters .*more than 1600/);
    expect(twilio.requestsTo('+15551110012')).toEqual([]);
  });

  test('Twilio’s 21211 text, which echoes the number, is masked', async () => {
    const to = '+15551110013';
    twilio.queue(to, twilioError(400, 21211, `The 'To' number ${to} is not a valid phone number.`));
    const f = await failureOf(attempt(1, acts.sendSms, deliveryContext(account.id), sms(to)));
    expect(f.type).toBe(PERMANENT);
    expect(JSON.stringify({ message: f.message, details: f.details })).not.toContain(to);
    expect(f.message).toContain('+1555•••13');
  });
});

describe('webhook signatures verify with the stripe and standardwebhooks libraries', () => {
  let receiver: WebhookReceiver;
  const stripe = new Stripe('sk_test_unused');
  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
  });
  afterAll(async () => {
    await receiver?.stop();
  });

  const deliver = async (accountId: string) => {
    const ctx = deliveryContext(accountId);
    await attempt(1, acts.sendWebhook, ctx, {
      index: 0,
      type: 'webhook',
      url: receiver.url('/crm'),
      method: 'POST',
      payload: { job: { number: 42 } },
    });
    const req = receiver.requests[receiver.requests.length - 1];
    return { ctx, req, headers: req.headers as Record<string, string> };
  };

  test('a new account’s whsec_ secret', async () => {
    expect(account.webhookSecret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    const { ctx, req, headers } = await deliver(account.id);
    expect(headers['webhook-id']).toBe(ctx.idempotencyKey);
    expect(headers['idempotency-key']).toBe(ctx.idempotencyKey);
    expect(new Webhook(account.webhookSecret).verify(req.body, headers)).toEqual({ job: { number: 42 } });
    const event = stripe.webhooks.constructEvent(req.body, headers['x-signature'], account.webhookSecret);
    expect(event).toEqual({ job: { number: 42 } });
    expect(() => new Webhook(newWebhookSecret()).verify(req.body, headers)).toThrow();
  });

  test('a secret from before (base64url) keeps verifying X-Signature, and Standard Webhooks with + and /', async () => {
    const old = await testAccount(db, 'Old secret');
    const secret = 'whsec_-_-_abcdefghijklmnopqrstuvwxyz01';
    await db.getRepository(AccountEntity).update({ id: old.id }, { webhookSecret: secret });
    const { req, headers } = await deliver(old.id);
    expect(stripe.webhooks.constructEvent(req.body, headers['x-signature'], secret)).toEqual({
      job: { number: 42 },
    });
    const standard = `whsec_${secret.slice(6).replace(/-/g, '+').replace(/_/g, '/')}`;
    expect(new Webhook(standard).verify(req.body, headers)).toEqual({ job: { number: 42 } });
  });

  test('during a rotation’s overlap both secrets verify, with both libraries; after it only the new one', async () => {
    const rotated = await testAccount(db, 'Rotated');
    const previous = rotated.webhookSecret;
    const current = newWebhookSecret();
    const repo = db.getRepository(AccountEntity);
    await repo.update(
      { id: rotated.id },
      {
        webhookSecret: current,
        previousWebhookSecret: previous,
        previousSecretValidUntil: new Date(Date.now() + 3600_000),
      },
    );
    const during = await deliver(rotated.id);
    expect(during.headers['x-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    expect(during.headers['webhook-signature']).toMatch(/^v1,\S+ v1,\S+$/);
    for (const secret of [current, previous]) {
      expect(new Webhook(secret).verify(during.req.body, during.headers)).toBeTruthy();
      expect(
        stripe.webhooks.constructEvent(during.req.body, during.headers['x-signature'], secret),
      ).toBeTruthy();
    }
    await repo.update({ id: rotated.id }, { previousSecretValidUntil: new Date(Date.now() - 1000) });
    const after = await deliver(rotated.id);
    expect(new Webhook(current).verify(after.req.body, after.headers)).toBeTruthy();
    expect(() => new Webhook(previous).verify(after.req.body, after.headers)).toThrow();
    expect(() =>
      stripe.webhooks.constructEvent(after.req.body, after.headers['x-signature'], previous),
    ).toThrow();
  });
});
