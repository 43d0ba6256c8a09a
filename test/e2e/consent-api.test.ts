/**
 * Consent and proof of delivery through the API, the worker and real servers: the suppression list,
 * STOP/START by SMS and delivery receipts signed by the official `twilio` package, the one-click
 * unsubscribe from a mail received over real SMTP, suppressed actions in a real run, the dry run's
 * SMS warning, and the webhook secret rotation.
 */
import Stripe from 'stripe';
import { Webhook } from 'standardwebhooks';
import { workflowIds } from '../../src/shared/constants';
import { newId } from '../../src/shared/ids';
import { SmtpTestServer } from '../helpers/servers/smtp';
import { TwilioTestServer } from '../helpers/servers/twilio';
import { startReceiver } from '../helpers/receiver';
import { AccountClient, eventually, startStack, type Stack } from '../helpers/stack';

const SID = 'AC00112233445566778899aabbccddeeff';
const TOKEN = 'twilio-token-consent-api-0f1e2d3c';
const FROM = '+15550003333';
const PUBLIC_URL = 'https://hooks.example.test';

let stack: Stack;
let acct: AccountClient;
let twilio: TwilioTestServer;
let smtp: SmtpTestServer;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

/** A fresh +1555… number, so tests sharing the database never meet. */
const phone = () => `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;

beforeAll(async () => {
  twilio = await TwilioTestServer.start(SID, TOKEN);
  smtp = await SmtpTestServer.start();
  receiver = await startReceiver();
  stack = await startStack({
    TWILIO_ACCOUNT_SID: SID,
    TWILIO_AUTH_TOKEN: TOKEN,
    TWILIO_FROM: FROM,
    TWILIO_API_BASE_URL: twilio.url,
    SMTP_URL: smtp.url(),
    PUBLIC_URL,
    UNSUBSCRIBE_SECRET: 'unsubscribe-secret-consent-api-test',
  });
  twilio.reachVia(PUBLIC_URL, stack.url);
  acct = await stack.account('Consent API');
});

afterAll(async () => {
  await stack?.stop();
  await twilio?.stop();
  await smtp?.stop();
  await receiver?.close();
});

/** Creates a rule, sends one event and waits for its rule run to complete; returns the run. */
async function runOnce(actions: unknown[], payload: Record<string, unknown>, userId?: string) {
  const rule = await acct.post('/rules', {
    name: `consent ${newId('r', 6)}`,
    trigger: { eventName: 'job.done' },
    delay: { value: 0, unit: 'seconds' },
    conditions: { all: [] },
    actions,
  });
  expect(rule.status).toBe(201);
  const eventId = newId('evt', 10);
  expect((await acct.post('/events', { id: eventId, name: 'job.done', payload, userId })).status).toBe(202);
  const workflowId = workflowIds.ruleRun(rule.body.id, eventId);
  return eventually(
    async () => {
      const run = await acct.get(`/executions/${workflowId}`);
      return run.status === 200 && run.body.status === 'completed' ? run.body : undefined;
    },
    30_000,
    `${workflowId} to complete`,
  );
}

describe('the suppression list', () => {
  test('normalises, pages, filters, lifts, and stays within its account', async () => {
    const a = await acct.post('/suppressions', {
      channel: 'sms',
      address: '+1 (555) 222-0001',
      reason: 'asked',
    });
    expect(a.status).toBe(201);
    expect(a.body).toMatchObject({ channel: 'sms', address: '+15552220001', reason: 'asked', source: 'api' });
    const again = await acct.post('/suppressions', { channel: 'sms', address: '+15552220001' });
    expect([again.status, again.body.id]).toEqual([200, a.body.id]);
    const b = await acct.post('/suppressions', { channel: 'email', address: 'Ann@Example.COM' });
    expect(b.body.address).toBe('ann@example.com');

    const page1 = await acct.get('/suppressions?limit=1');
    expect(page1.body.items.map((s: { id: string }) => s.id)).toEqual([a.body.id]);
    const page2 = await acct.get(`/suppressions?limit=1&cursor=${page1.body.nextCursor}`);
    expect(page2.body.items.map((s: { id: string }) => s.id)).toEqual([b.body.id]);
    const byAddress = await acct.get('/suppressions?address=ANN@example.com');
    expect(byAddress.body.items.map((s: { id: string }) => s.id)).toEqual([b.body.id]);
    const sms = await acct.get('/suppressions?channel=sms');
    expect(sms.body.items.map((s: { id: string }) => s.id)).toEqual([a.body.id]);

    const bad = await acct.post('/suppressions', { channel: 'sms', address: 'not a number' });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'validation_failed']);
    expect((await acct.post('/suppressions', { channel: 'fax', address: '+15552220001' })).status).toBe(400);

    const other = await stack.account('Consent other');
    expect((await other.get('/suppressions')).body.items).toEqual([]);
    expect((await other.delete(`/suppressions/${a.body.id}`)).status).toBe(404);
    expect((await acct.delete(`/suppressions/${a.body.id}`)).status).toBe(204);
    expect((await acct.delete(`/suppressions/${a.body.id}`)).status).toBe(404);
    expect((await acct.get('/suppressions?channel=sms')).body.items).toEqual([]);
  });
});

describe('SMS keywords at POST /webhooks/twilio/inbound', () => {
  const inbound = (from: string, body: string, to = FROM) =>
    twilio.post(`${PUBLIC_URL}/webhooks/twilio/inbound`, {
      AccountSid: SID,
      MessageSid: `SM${newId('m', 16)}`,
      From: from,
      To: to,
      Body: body,
      NumMedia: '0',
    });
  const suppressedNumbers = async (client: AccountClient, number: string) =>
    (await client.get(`/suppressions?channel=sms&address=${encodeURIComponent(number)}`)).body.items;

  test('STOP suppresses, START lifts, HELP changes nothing; each answered with empty TwiML', async () => {
    const number = phone();
    const stop = await inbound(number, '  stop ');
    expect(stop.status).toBe(200);
    expect(stop.body).toBe('<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
    expect(await suppressedNumbers(acct, number)).toEqual([
      expect.objectContaining({ address: number, source: 'sms_keyword', reason: 'texted STOP' }),
    ]);
    expect((await inbound(number, 'HELP')).status).toBe(200);
    expect(await suppressedNumbers(acct, number)).toHaveLength(1);
    expect((await inbound(number, 'Start')).status).toBe(200);
    expect(await suppressedNumbers(acct, number)).toEqual([]);
  });

  test('a STOP to an account’s own number suppresses for that account only', async () => {
    const own = phone();
    const res = await stack.anonymous.request(
      'POST',
      '/accounts',
      { name: 'Own number', smsFrom: own },
      { Authorization: `Bearer ${stack.adminToken}` },
    );
    expect(res.status).toBe(201);
    const ownClient = new AccountClient(stack.url, res.body.id, res.body.apiKey, res.body.webhookSecret);
    const number = phone();
    expect((await inbound(number, 'STOPALL', own)).status).toBe(200);
    expect(await suppressedNumbers(ownClient, number)).toHaveLength(1);
    expect(await suppressedNumbers(acct, number)).toEqual([]);
  });

  test('a forged or unsigned STOP is refused with 403 and changes nothing', async () => {
    const number = phone();
    const forged = await twilio.post(
      `${PUBLIC_URL}/webhooks/twilio/inbound`,
      { From: number, To: FROM, Body: 'STOP' },
      'not-the-auth-token',
    );
    expect([forged.status, JSON.parse(forged.body).error.code]).toEqual([403, 'forbidden']);
    const unsigned = await fetch(`${stack.url}/webhooks/twilio/inbound`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ From: number, To: FROM, Body: 'STOP' }).toString(),
    });
    expect(unsigned.status).toBe(403);
    expect(await suppressedNumbers(acct, number)).toEqual([]);
  });
});

test('suppressed number, address and user each end their action suppressed, the rest is sent', async () => {
  const number = phone();
  const userPhone = phone();
  await acct.post('/suppressions', { channel: 'sms', address: number });
  await acct.post('/suppressions', { channel: 'email', address: 'gone@example.com' });
  const user = await acct.post('/users', { phone: userPhone, preferences: { sms: false } });
  expect(user.body.preferences).toEqual({ sms: false });
  const run = await runOnce(
    [
      { type: 'sms', params: { recipient: { source: 'fact', fact: 'job', path: '$.phone' }, message: 'Hi' } },
      {
        type: 'email',
        params: { recipient: 'Gone@Example.com', subject: 'Done', text: 'Thanks' },
      },
      { type: 'sms', params: { recipient: { source: 'user', field: 'phone' }, message: 'Hi' } },
      { type: 'webhook', params: { url: `${receiver.url}/consent-run`, payload: {} } },
    ],
    { job: { phone: number } },
    user.body.id,
  );
  expect(run.result.outcome).toBe('sent');
  expect(run.result.actions.map((a: { outcome: string }) => a.outcome)).toEqual([
    'suppressed',
    'suppressed',
    'suppressed',
    'sent',
  ]);
  // The timeline is in completion order; compare by action.
  const attempts = run.timeline
    .filter((e: { type: string }) => e.type === 'action_attempt')
    .sort((x: { actionIndex: number }, y: { actionIndex: number }) => x.actionIndex - y.actionIndex);
  expect(attempts.map((e: { outcome: string; reason?: string }) => [e.outcome, e.reason])).toEqual([
    ['suppressed', expect.stringContaining('suppression list')],
    ['suppressed', expect.stringContaining('suppression list')],
    ['suppressed', 'the user turned sms off in their preferences'],
    ['sent', undefined],
  ]);
  expect(twilio.requestsTo(number)).toEqual([]);
  expect(twilio.requestsTo(userPhone)).toEqual([]);
  expect(smtp.messages.filter((m) => m.to.some((t) => /gone@/i.test(t)))).toEqual([]);
});

test('delivery receipts: recorded by message sid, idempotent, never backwards; unknown ones ignored', async () => {
  const number = phone();
  const run = await runOnce([{ type: 'sms', params: { recipient: number, message: 'On our way' } }], {});
  const [req] = twilio.requestsTo(number);
  expect(req.form.StatusCallback).toBe(`${PUBLIC_URL}/webhooks/twilio/status`);
  const sid = run.result.actions[0].providerId;
  expect(run.deliveries).toEqual([expect.objectContaining({ providerId: sid, status: null })]);

  for (const s of ['sent', 'delivered', 'delivered', 'sent'])
    expect((await twilio.status(sid, s)).status).toBe(200);
  expect((await twilio.status(sid, 'undelivered', { ErrorCode: '30003' })).status).toBe(200);
  const after = await acct.get(`/executions/${run.workflowId}`);
  expect(after.body.deliveries).toEqual([
    expect.objectContaining({
      actionIndex: 0,
      channel: 'sms',
      providerId: sid,
      status: 'delivered',
      errorCode: null,
    }),
  ]);
  expect(Date.parse(after.body.deliveries[0].statusAt)).not.toBeNaN();

  // A failed message records the carrier's code.
  const failing = phone();
  const run2 = await runOnce([{ type: 'sms', params: { recipient: failing, message: 'Hi' } }], {});
  const sid2 = run2.result.actions[0].providerId;
  await twilio.status(sid2, 'undelivered', { ErrorCode: '30007' });
  await twilio.status(sid2, 'sent');
  const failed = (await acct.get(`/executions/${run2.workflowId}`)).body.deliveries[0];
  expect(failed).toMatchObject({ status: 'undelivered', errorCode: '30007' });

  const unknown = await twilio.post(`${PUBLIC_URL}/webhooks/twilio/status`, {
    MessageSid: 'SMffffffffffffffffffffffffffffffff',
    MessageStatus: 'delivered',
  });
  expect(unknown.status).toBe(200);
  const forged = await twilio.post(
    `${PUBLIC_URL}/webhooks/twilio/status`,
    { MessageSid: sid2, MessageStatus: 'delivered' },
    'wrong-token',
  );
  expect(forged.status).toBe(403);
  expect((await acct.get(`/executions/${run2.workflowId}`)).body.deliveries[0].status).toBe('undelivered');
  const metrics = (await stack.anonymous.get('/metrics')).body as string;
  expect(metrics).toMatch(/delivery_receipts_total\{status="delivered",recorded="true"\} [1-9]/);
});

test('one-click unsubscribe from a real email: GET only asks, POST suppresses, the next email is skipped', async () => {
  const to = `Una.${newId('u', 6)}@Example.com`;
  const address = to.toLowerCase();
  const email = { type: 'email', params: { recipient: to, subject: 'Your visit', text: 'See you' } };
  await runOnce([email], {});
  const mail = await eventually(() =>
    smtp.messages.find((m) => m.to.some((t) => t.toLowerCase() === address)),
  );
  expect(mail.headers['auto-submitted']).toBe('auto-generated');
  expect(mail.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
  const link = /^<(.+)>$/.exec(mail.headers['list-unsubscribe'])![1];
  expect(link.startsWith(`${PUBLIC_URL}/unsubscribe/`)).toBe(true);
  const local = stack.url + link.slice(PUBLIC_URL.length);

  const page = await fetch(local);
  expect(page.status).toBe(200);
  const html = await page.text();
  expect(html).toContain('<form method="post">');
  expect(html).toContain('name="List-Unsubscribe" value="One-Click"');
  expect(html).not.toContain('<script');
  expect(html).not.toContain(address);
  expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
  const listed = async () =>
    (await acct.get(`/suppressions?address=${encodeURIComponent(address)}`)).body.items;
  expect(await listed()).toEqual([]);

  const post = await fetch(local, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'List-Unsubscribe=One-Click',
  });
  expect(post.status).toBe(200);
  expect(await listed()).toEqual([
    expect.objectContaining({ channel: 'email', address, source: 'unsubscribe' }),
  ]);

  // One character of the MAC changed (the last one holds spare bits, so not that one).
  const tampered = local.replace(
    /\.(.)([^./]+)$/,
    (_, c: string, rest: string) => `.${c === 'A' ? 'B' : 'A'}${rest}`,
  );
  expect((await fetch(tampered, { method: 'POST', body: 'List-Unsubscribe=One-Click' })).status).toBe(400);
  expect((await fetch(tampered)).status).toBe(400);

  const again = await runOnce([email], {});
  expect(again.result.actions[0].outcome).toBe('suppressed');
});

test('the dry run warns of an SMS body a real run would refuse', async () => {
  const res = await acct.post('/rules/test', {
    rule: {
      name: 'long',
      trigger: { eventName: 'job.done' },
      delay: { value: 0, unit: 'seconds' },
      conditions: { all: [] },
      actions: [{ type: 'sms', params: { recipient: '+15551234567', message: 'Note: {{job.note}}' } }],
    },
    event: { name: 'job.done', payload: { job: { note: 'x'.repeat(2000) } } },
  });
  expect(res.status).toBe(200);
  // Beside it, the catalogue may warn about the placeholder (job.done events seen earlier in this file).
  expect(res.body.warnings.filter((w: { code: string }) => w.code === 'sms_too_long')).toEqual([
    {
      code: 'sms_too_long',
      path: 'actions[0].params.message',
      message: expect.stringContaining('2006 characters'),
      suggestion: expect.any(String),
    },
  ]);
});

test('rotating the webhook secret: both secrets sign during the overlap, checked by stripe and standardwebhooks', async () => {
  const client = await stack.account('Rotation');
  const before = client.webhookSecret;
  const rotated = await client.post('/account/webhook-secret/rotate');
  expect(rotated.status).toBe(200);
  expect(rotated.body.webhookSecret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
  const until = Date.parse(rotated.body.previousSecretValidUntil);
  expect(until - Date.now()).toBeGreaterThan(23.9 * 3600_000);
  expect(until - Date.now()).toBeLessThan(24.1 * 3600_000);

  const rule = await client.post('/rules', {
    name: 'hook',
    trigger: { eventName: 'job.done' },
    delay: { value: 0, unit: 'seconds' },
    conditions: { all: [] },
    actions: [{ type: 'webhook', params: { url: `${receiver.url}/rotated`, payload: { n: 1 } } }],
  });
  expect(rule.status).toBe(201);
  await client.post('/events', { name: 'job.done', payload: {} });
  const got = await eventually(() => receiver.received.find((r) => r.path === '/rotated'));
  const headers = got.headers as Record<string, string>;
  const stripe = new Stripe('sk_test_unused');
  for (const secret of [rotated.body.webhookSecret, before]) {
    expect(new Webhook(secret).verify(got.raw, headers)).toEqual({ n: 1 });
    expect(stripe.webhooks.constructEvent(got.raw, headers['x-signature'], secret)).toEqual({ n: 1 });
  }
  const bad = await client.post('/account/webhook-secret/rotate', { overlapHours: -1 });
  expect(bad.status).toBe(400);
});
