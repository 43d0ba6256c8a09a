/**
 * Delivered once: the ledger stops a second send when an activity is retried after its send
 * succeeded, a concurrent attempt in the same process waits for the first, the unique key protects
 * the ledger, and the outbox is written atomically with it. Then GET /outbox over the real API.
 */
import type { Transporter } from 'nodemailer';
import type { DataSource } from 'typeorm';
import { deliverOnce, findDelivery } from '../../src/activities/ledger';
import { createMailer } from '../../src/worker/worker';
import type { CreatedAccount } from '../../src/services/accounts';
import {
  activities,
  attempt,
  deliveryContext,
  failureOf,
  openTestDb,
  testAccount,
  testConfig,
} from '../helpers/servers/harness';
import { SmtpTestServer } from '../helpers/servers/smtp';
import { TwilioTestServer } from '../helpers/servers/twilio';
import { WebhookReceiver } from '../helpers/servers/webhook';
import { startStack, type AccountClient, type Stack } from '../helpers/stack';

let db: DataSource;
let account: CreatedAccount;

beforeAll(async () => {
  db = await openTestDb();
  account = await testAccount(db, 'Ledger');
});

afterAll(async () => {
  await db?.destroy();
});

describe('a retry after a successful send does not send again', () => {
  let receiver: WebhookReceiver;
  let twilio: TwilioTestServer;
  let smtp: SmtpTestServer;
  let mailer: Transporter;
  let acts: ReturnType<typeof activities>;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    twilio = await TwilioTestServer.start('AC_ledger', 'token_ledger_123');
    smtp = await SmtpTestServer.start();
    const config = testConfig({
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      SMTP_URL: smtp.url(),
      TWILIO_ACCOUNT_SID: 'AC_ledger',
      TWILIO_AUTH_TOKEN: 'token_ledger_123',
      TWILIO_FROM: '+15550002222',
      TWILIO_API_BASE_URL: twilio.url,
    });
    mailer = createMailer(config)!;
    acts = activities({ db, config, mailer });
  });

  afterAll(async () => {
    mailer?.close();
    await Promise.all([receiver?.stop(), twilio?.stop(), smtp?.stop()]);
  });

  test('webhook: the receiver gets exactly one request', async () => {
    const ctx = deliveryContext(account.id);
    const msg = {
      index: 0,
      type: 'webhook' as const,
      url: receiver.url('/once'),
      method: 'POST' as const,
      payload: {},
    };
    const first = await attempt(1, acts.sendWebhook, ctx, msg);
    expect(first.via).toBe('provider');
    // The worker died before reporting completion: Temporal runs attempt 2 with the same key.
    const retry = await attempt(2, acts.sendWebhook, ctx, msg);
    expect(retry).toMatchObject({ via: 'ledger', attempts: 2 });
    expect(receiver.requests.filter((r) => r.path === '/once')).toHaveLength(1);
  });

  test('SMS: Twilio gets one request, and the retry returns the recorded sid', async () => {
    const ctx = deliveryContext(account.id);
    const msg = { index: 0, type: 'sms' as const, to: '+15551239999', body: 'once' };
    const first = await attempt(1, acts.sendSms, ctx, msg);
    const retry = await attempt(2, acts.sendSms, ctx, msg);
    expect(retry).toMatchObject({ via: 'ledger', providerId: first.providerId });
    expect(twilio.requestsTo('+15551239999')).toHaveLength(1);
  });

  test('email: the server receives one message', async () => {
    const ctx = deliveryContext(account.id);
    const msg = { index: 0, type: 'email' as const, to: 'once@example.com', subject: 'once', text: 'once' };
    const first = await attempt(1, acts.sendEmail, ctx, msg);
    const retry = await attempt(3, acts.sendEmail, ctx, msg);
    expect(retry).toMatchObject({ via: 'ledger', providerId: first.providerId });
    expect(smtp.messages.filter((m) => m.to.includes('once@example.com'))).toHaveLength(1);
  });

  test('another action of the same run has its own key and is sent', async () => {
    const ctx0 = deliveryContext(account.id, 0);
    const ctx1 = { ...ctx0, actionIndex: 1, idempotencyKey: `${ctx0.workflowId}.action-1` };
    const msg = {
      index: 0,
      type: 'webhook' as const,
      url: receiver.url('/two'),
      method: 'POST' as const,
      payload: {},
    };
    await attempt(1, acts.sendWebhook, ctx0, msg);
    await attempt(1, acts.sendWebhook, ctx1, { ...msg, index: 1 });
    expect(
      receiver.requests.filter((r) => r.path === '/two').map((r) => r.headers['idempotency-key']),
    ).toEqual([ctx0.idempotencyKey, ctx1.idempotencyKey]);
  });

  test('an attempt still in flight is joined, not repeated, by a concurrent retry in this process', async () => {
    const slow = await WebhookReceiver.start({ status: 200, delayMs: 300 });
    try {
      const ctx = deliveryContext(account.id);
      const msg = {
        index: 0,
        type: 'webhook' as const,
        url: slow.url('/slow'),
        method: 'POST' as const,
        payload: {},
      };
      const [a, b] = await Promise.all([
        attempt(1, acts.sendWebhook, ctx, msg),
        attempt(2, acts.sendWebhook, ctx, msg),
      ]);
      expect(a.via).toBe('provider');
      expect(b.via).toBe('provider');
      expect(slow.requests).toHaveLength(1);
    } finally {
      await slow.stop();
    }
  });

  test('a failed send leaves no ledger row, so the retry really sends', async () => {
    const flaky = await WebhookReceiver.start({ status: 502 });
    try {
      const ctx = deliveryContext(account.id);
      const msg = {
        index: 0,
        type: 'webhook' as const,
        url: flaky.url(),
        method: 'POST' as const,
        payload: {},
      };
      await failureOf(attempt(1, acts.sendWebhook, ctx, msg));
      expect(await findDelivery(db, ctx.idempotencyKey)).toBeNull();
      expect((await attempt(2, acts.sendWebhook, ctx, msg)).via).toBe('provider');
      expect(flaky.requests).toHaveLength(2);
      expect(await findDelivery(db, ctx.idempotencyKey)).not.toBeNull();
    } finally {
      await flaky.stop();
    }
  });
});

describe('the ledger itself', () => {
  test('the idempotency key is unique in the table', async () => {
    const ctx = deliveryContext(account.id);
    const insert = () =>
      db.query(
        `INSERT INTO deliveries (idempotency_key, account_id, workflow_id, action_index, channel) VALUES ($1, $2, $3, 0, 'sms')`,
        [ctx.idempotencyKey, account.id, ctx.workflowId],
      );
    await insert();
    await expect(insert()).rejects.toMatchObject({ code: '23505' });
  });

  test('a send whose ledger write fails still reports success (failing would make Temporal send again)', async () => {
    const broken = await openTestDb();
    const ctx = deliveryContext(account.id);
    let sends = 0;
    const result = await attempt(
      1,
      (c: typeof ctx) =>
        deliverOnce(broken, c, 'webhook', async () => {
          sends++;
          // The database goes away between the send and the write.
          await broken.destroy();
          return { providerId: 'p1', via: 'provider' as const };
        }),
      ctx,
    );
    expect(result).toEqual({ providerId: 'p1', via: 'provider' });
    expect(sends).toBe(1);
  }, 20_000);
});

describe('GET /outbox', () => {
  let stack: Stack;
  let acct: AccountClient;
  let other: AccountClient;
  const workflowIds: string[] = [];

  beforeAll(async () => {
    stack = await startStack();
    acct = await stack.account('Outbox reader');
    other = await stack.account('Someone else');
    // The stack has no SMTP_URL and no TWILIO_*: both channels are in outbox mode.
    const acts = activities({ db: stack.db, config: stack.config });
    for (let i = 0; i < 3; i++) {
      const ctx = deliveryContext(acct.id);
      workflowIds.push(ctx.workflowId);
      await attempt(1, acts.sendSms, ctx, { index: 0, type: 'sms', to: `+1555123400${i}`, body: `sms ${i}` });
    }
    for (let i = 0; i < 2; i++) {
      const ctx = deliveryContext(acct.id, 1);
      workflowIds.push(ctx.workflowId);
      await attempt(1, acts.sendEmail, ctx, {
        index: 1,
        type: 'email',
        to: `client${i}@example.com`,
        subject: `Job ${i}`,
        text: `text ${i}`,
        html: `<p>&lt;${i}&gt;</p>`,
      });
    }
    await attempt(1, acts.sendSms, deliveryContext(other.id), {
      index: 0,
      type: 'sms',
      to: '+15559999999',
      body: 'not yours',
    });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  test('lists the account’s messages oldest first with rendered content and the run', async () => {
    const res = await acct.get('/outbox');
    expect(res.status).toBe(200);
    expect(res.body.nextCursor).toBeNull();
    expect(res.body.items).toHaveLength(5);
    expect(res.body.items.map((m: any) => m.workflowId)).toEqual(workflowIds);
    expect(res.body.items[0]).toEqual({
      id: expect.stringMatching(/^msg_/),
      channel: 'sms',
      recipient: '+15551234000',
      subject: null,
      body: 'sms 0',
      html: null,
      payload: null,
      workflowId: workflowIds[0],
      ruleId: 'rule_test',
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(res.body.items[4]).toMatchObject({
      channel: 'email',
      recipient: 'client1@example.com',
      subject: 'Job 1',
      body: 'text 1',
      html: '<p>&lt;1&gt;</p>',
    });
  });

  test('pages with limit and cursor without skipping or repeating', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : '?limit=2';
      const res = await acct.get(`/outbox${q}`);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((m: any) => m.workflowId));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(workflowIds);
  });

  test('filters by channel', async () => {
    const email = await acct.get('/outbox?channel=email');
    expect(email.body.items.map((m: any) => m.channel)).toEqual(['email', 'email']);
    const sms = await acct.get('/outbox?channel=sms&limit=1');
    expect(sms.body.items).toHaveLength(1);
    expect(sms.body.nextCursor).not.toBeNull();
    const webhook = await acct.get('/outbox?channel=webhook');
    expect(webhook.body).toEqual({ items: [], nextCursor: null });
  });

  test('another account sees only its own messages', async () => {
    const res = await other.get('/outbox');
    expect(res.body.items.map((m: any) => m.body)).toEqual(['not yours']);
  });

  test.each([
    ['?channel=fax', 'channel'],
    ['?limit=0', 'limit'],
    ['?limit=abc', 'limit'],
    ['?limit=201', 'limit'],
  ])('%s is a 400 naming the parameter', async (q, path) => {
    const res = await acct.get(`/outbox${q}`);
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: any) => d.path)).toContain(path);
  });

  test('a cursor this API did not issue is a 400', async () => {
    const res = await acct.get('/outbox?cursor=bm90LWEtbnVtYmVy');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_cursor');
  });

  test('needs an API key', async () => {
    expect((await stack.anonymous.get('/outbox')).status).toBe(401);
  });

  test('is described in /openapi.json', async () => {
    const res = await stack.anonymous.get('/openapi.json');
    expect(res.body.paths['/outbox'].get.parameters.map((p: any) => p.name)).toEqual([
      'limit',
      'cursor',
      'channel',
    ]);
  });
});
