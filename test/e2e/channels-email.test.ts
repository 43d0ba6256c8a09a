/**
 * Email over SMTP through the worker's own pooled nodemailer transport, to a real SMTP server on
 * 127.0.0.1: content and escaping, an outage then recovery, refused recipients, secrets kept out of
 * failures, and the outbox when SMTP_URL is not set.
 */
import type { Transporter } from 'nodemailer';
import type { DataSource } from 'typeorm';
import { EMAIL_TIMEOUT_MS, messageIdFor } from '../../src/activities/channels';
import { findDelivery } from '../../src/activities/ledger';
import { OutboxEntity } from '../../src/db/entities';
import type { CreatedAccount } from '../../src/services/accounts';
import { renderTemplate } from '../../src/shared/templates';
import { createMailer } from '../../src/worker/worker';
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
import { SmtpTestServer } from '../helpers/servers/smtp';

const USER = 'mailer';
const PASS = 'smtp-pass-5e8d1f0a9c7b';
const FROM = 'Acme Plumbing <automation@acme.test>';

let db: DataSource;
let account: CreatedAccount;
let smtp: SmtpTestServer;
let mailer: Transporter;
let acts: ChannelActivities;
const mailers: Transporter[] = [];

const email = (to: string, content: { subject?: string; text?: string; html?: string } = {}) => ({
  index: 0,
  type: 'email' as const,
  to,
  subject: content.subject ?? 'Job #42 is done',
  ...(content.text !== undefined && { text: content.text }),
  ...(content.html !== undefined && { html: content.html }),
});

function smtpActivities(url: string): ChannelActivities {
  const config = testConfig({ SMTP_URL: url, EMAIL_FROM: FROM });
  const m = createMailer(config)!;
  mailers.push(m);
  return activities({ db, config, mailer: m });
}

beforeAll(async () => {
  db = await openTestDb();
  account = await testAccount(db, 'Email');
  smtp = await SmtpTestServer.start({
    user: USER,
    pass: PASS,
    rcpt: (address) => {
      if (address.startsWith('nobody@')) return { code: 550, message: '5.1.1 No such user here' };
      if (address.startsWith('greylisted@')) return { code: 451, message: '4.7.1 Try again later' };
      return undefined;
    },
    authFailureText: (given) => `5.7.8 Authentication failed for ${given.username}/${given.password}`,
  });
  const config = testConfig({ SMTP_URL: smtp.url(), EMAIL_FROM: FROM });
  mailer = createMailer(config)!;
  mailers.push(mailer);
  acts = activities({ db, config, mailer });
});

afterAll(async () => {
  for (const m of mailers) m.close();
  await smtp?.stop();
  await db?.destroy();
});

const received = (to: string) => smtp.messages.filter((m) => m.to.includes(to));

test('the pooled transport from SMTP_URL delivers subject, text and the rendered HTML intact', async () => {
  const facts = {
    job: { number: 42, note: '<script>alert("x")</script> & Tom\'s <b>pipes</b>' },
    user: { name: 'Zoë Ñúñez' },
  };
  const html = renderTemplate('<p>Hi {{user.name}},</p><p>Job #{{job.number}}: {{job.note}}</p>', facts, {
    html: true,
  });
  const text = renderTemplate('Hi {{user.name}}, job #{{job.number}}: {{job.note}}', facts);
  const subject = renderTemplate('Job №{{job.number}} — done ✓', facts);
  const to = 'ana@example.com';
  const ctx = deliveryContext(account.id);

  const result = await attempt(1, acts.sendEmail, ctx, email(to, { subject, text, html }));

  expect(result).toMatchObject({ via: 'provider', attempts: 1 });
  const mails = received(to);
  expect(mails).toHaveLength(1);
  const [mail] = mails;
  expect(mail.from).toBe('automation@acme.test');
  expect(mail.headers.from).toContain('Acme Plumbing');
  expect(mail.subject).toBe('Job №42 — done ✓');
  expect(mail.text).toBe('Hi Zoë Ñúñez, job #42: <script>alert("x")</script> & Tom\'s <b>pipes</b>');
  // The substituted value arrives escaped, the template's own markup as written.
  expect(mail.html).toBe(
    '<p>Hi Zoë Ñúñez,</p><p>Job #42: &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Tom&#39;s &lt;b&gt;pipes&lt;/b&gt;</p>',
  );
  expect(mail.html).not.toContain('<script>');
  // A stable Message-ID derived from the idempotency key, which it does not reveal.
  expect(mail.messageId).toBe(messageIdFor(ctx.idempotencyKey, FROM));
  expect(mail.messageId).toMatch(/^<[0-9a-f]{32}@acme\.test>$/);
  expect(result.providerId).toBe(mail.messageId);
  expect(mail.raw).not.toContain(ctx.workflowId);
  expect(await findDelivery(db, ctx.idempotencyKey)).toMatchObject({
    channel: 'email',
    providerId: mail.messageId,
  });
});

test('an HTML-only message is sent as HTML', async () => {
  const to = 'html-only@example.com';
  await attempt(1, acts.sendEmail, deliveryContext(account.id), email(to, { html: '<h1>Done</h1>' }));
  expect(received(to)[0].html).toBe('<h1>Done</h1>');
});

test('SMTP down: a retryable failure; back up: the retry delivers, exactly once', async () => {
  const to = 'outage@example.com';
  const ctx = deliveryContext(account.id);
  const msg = email(to, { text: 'during the outage' });
  await smtp.stop();
  try {
    const f = await failureOf(attempt(1, acts.sendEmail, ctx, msg));
    expect(f.type).toBe(TRANSIENT);
    expect(f.nonRetryable).toBe(false);
    expect(f.message).toMatch(/ECONNECTION|ECONNREFUSED/);
    expect(f.info).toMatchObject({ channel: 'email', attempt: 1 });
    expect(await findDelivery(db, ctx.idempotencyKey)).toBeNull();
  } finally {
    await smtp.start();
  }
  const ok = await attempt(2, acts.sendEmail, ctx, msg);
  expect(ok).toMatchObject({ via: 'provider', attempts: 2 });
  expect(received(to)).toHaveLength(1);
  expect(received(to)[0].text).toBe('during the outage');
});

test('550 to RCPT TO is permanent (PermanentDeliveryError), and nothing is delivered', async () => {
  const to = 'nobody@example.com';
  const f = await failureOf(
    attempt(1, acts.sendEmail, deliveryContext(account.id), email(to, { text: 'x' })),
  );
  expect(f.type).toBe(PERMANENT);
  expect(f.nonRetryable).toBe(true);
  expect(f.info).toMatchObject({ channel: 'email', status: 550, code: 'EENVELOPE' });
  expect(f.message).toContain('No such user');
  expect(received(to)).toHaveLength(0);
});

test('a 4xx to RCPT TO is retryable', async () => {
  const f = await failureOf(
    attempt(1, acts.sendEmail, deliveryContext(account.id), email('greylisted@example.com', { text: 'x' })),
  );
  expect(f).toMatchObject({ type: TRANSIENT, nonRetryable: false });
  expect(f.info.status).toBe(451);
});

test('an invalid address is permanent without talking to the server', async () => {
  const before = smtp.rcptAttempts;
  for (const to of ['not-an-address', 'a@b.com, c@d.com', 'x@example.com\r\nBcc: victim@example.com']) {
    const f = await failureOf(
      attempt(1, acts.sendEmail, deliveryContext(account.id), email(to, { text: 'x' })),
    );
    expect(f.type).toBe(PERMANENT);
  }
  expect(smtp.rcptAttempts).toBe(before);
});

test('a wrong SMTP password is retryable and never shown, even when the server echoes it', async () => {
  const wrongPass = 'wrong-smtp-pass-31415926';
  const bad = smtpActivities(smtp.url(USER, wrongPass));
  const f = await failureOf(
    attempt(1, bad.sendEmail, deliveryContext(account.id), email('auth@example.com', { text: 'x' })),
  );
  expect(f.type).toBe(TRANSIENT);
  expect(f.message).toContain('535');
  expect(f.message).toContain('[redacted]');
  const everything = JSON.stringify({ message: f.message, details: f.details, stack: f.stack });
  expect(everything).not.toContain(wrongPass);
  expect(everything).not.toContain(PASS);
  expect(received('auth@example.com')).toHaveLength(0);
});

test('an attempt ends before the activity’s 1 minute start-to-close timeout', () => {
  expect(EMAIL_TIMEOUT_MS).toBeLessThan(60_000);
});

describe('without SMTP_URL the message goes to the outbox', () => {
  test('subject, text and html are stored once for the run', async () => {
    const outboxActs = activities({ db, config: testConfig() });
    const ctx = deliveryContext(account.id, 1);
    const msg = email('ana@example.com', { subject: 'Job done', text: 'Plain', html: '<p>&lt;b&gt;</p>' });
    const first = await attempt(1, outboxActs.sendEmail, ctx, msg);
    expect(first.via).toBe('outbox');
    expect((await attempt(2, outboxActs.sendEmail, ctx, msg)).via).toBe('ledger');
    const rows = await db.getRepository(OutboxEntity).findBy({ idempotencyKey: ctx.idempotencyKey });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      channel: 'email',
      recipient: 'ana@example.com',
      subject: 'Job done',
      body: 'Plain',
      html: '<p>&lt;b&gt;</p>',
      payload: null,
      workflowId: ctx.workflowId,
    });
    expect(received('ana@example.com')).toHaveLength(1); // only the first test's message
  });
});
