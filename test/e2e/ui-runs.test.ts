/**
 * The Runs, run, outbox, users, templates, suppressions and keys pages in a real browser (Debian
 * Chromium) on the real stack: events sent through the API, their runs found in Runs by outcome, a
 * run's timeline, a sleeping run cancelled from its page, edits that the API agrees with, and each
 * page clean under axe-core.
 */
import type { Browser, Page } from 'playwright-core';
import { axeScan, launchBrowser, openApp, type UiSession } from '../helpers/browser';
import { startReceiver } from '../helpers/receiver';
import { eventually, HttpClient, startStack, type AccountClient, type Stack } from '../helpers/stack';

const TEMPORAL_UI_URL = 'http://127.0.0.1:8233';
const uniq = Math.random().toString(36).slice(2, 8);
const doneEvent = `job.done${uniq}`;
const sleepEvent = `job.sleep${uniq}`;
const failEvent = `job.fail${uniq}`;
const ids: Record<string, string> = {};

let stack: Stack;
let acct: AccountClient;
let readKey: string;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let browser: Browser;
const sessions: UiSession[] = [];

async function open(path: string, apiKey = acct.apiKey): Promise<Page> {
  const s = await openApp(browser, `${stack.url}/ui/rules`, apiKey);
  sessions.push(s);
  await s.page.goto(`${stack.url}/ui${path}`);
  return s.page;
}

const runId = (rule: string, eventId: string) => `run-${ids[rule]}-${eventId}`;
const row = (page: Page, text: string) => page.getByRole('row').filter({ hasText: text });

beforeAll(async () => {
  stack = await startStack({ TEMPORAL_UI_URL });
  receiver = await startReceiver((r) =>
    r.path === '/reject' ? { status: 400, body: 'no' } : { status: 200 },
  );
  acct = await stack.account('UI runs shop');
  const read = await acct.post('/keys', { name: 'viewer', role: 'read' });
  readKey = read.body.key;
  const webhook = {
    type: 'webhook',
    params: { url: `${receiver.url}/hook`, payload: { n: '{{job.number}}' } },
  };
  const rules = {
    notify: {
      name: 'Notify when done',
      trigger: { eventName: doneEvent },
      delay: { value: 0, unit: 'seconds' },
      conditions: { all: [{ fact: 'job', path: '$.status', operator: 'equal', value: 'Done' }] },
      actions: [
        webhook,
        {
          type: 'email',
          params: {
            recipient: 'ana@example.com',
            subject: 'Job {{job.number}} done',
            text: 'Done.',
            html: '<h1>Job {{job.number}}</h1><script>parent.document.title = "owned"</script>',
          },
        },
      ],
    },
    never: {
      name: 'Only when cancelled',
      trigger: { eventName: doneEvent },
      delay: { value: 0, unit: 'seconds' },
      conditions: { all: [{ fact: 'job', path: '$.status', operator: 'equal', value: 'Cancelled' }] },
      actions: [webhook],
    },
    rejected: {
      name: 'Post to a receiver that refuses',
      trigger: { eventName: failEvent },
      delay: { value: 0, unit: 'seconds' },
      actions: [{ type: 'webhook', params: { url: `${receiver.url}/reject`, payload: {} } }],
    },
    sleeper: {
      name: 'Follow up tomorrow',
      trigger: { eventName: sleepEvent },
      delay: { value: 1, unit: 'days' },
      actions: [webhook],
    },
  };
  for (const [key, body] of Object.entries(rules)) {
    const res = await acct.post('/rules', body);
    expect(res.status).toBe(201);
    ids[key] = res.body.id;
  }
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  for (const s of sessions) await s.context.close().catch(() => undefined);
  await browser?.close();
  await receiver?.close();
  await stack?.stop();
});

test('a run appears in Runs with outcome sent, the Outcome filter narrows the list, the run page draws its timeline', async () => {
  const eventId = `evt-ui-${uniq}`;
  expect(
    (
      await acct.post('/events', {
        id: eventId,
        name: doneEvent,
        payload: { job: { status: 'Done', number: 42 } },
      })
    ).status,
  ).toBe(202);
  const sent = runId('notify', eventId);
  const notMet = runId('never', eventId);

  const page = await open(`/runs?eventId=${eventId}`);
  await page.getByRole('heading', { level: 1, name: 'Runs' }).waitFor();
  // The list refreshes itself: both runs arrive with their outcome as text.
  await row(page, sent).getByText('sent', { exact: true }).waitFor({ timeout: 30_000 });
  await row(page, notMet).getByText('conditions_not_met', { exact: true }).waitFor({ timeout: 30_000 });
  expect(await page.getByLabel('Event id').inputValue()).toBe(eventId);

  await page.getByLabel('Outcome').selectOption('sent');
  await page.waitForURL(/outcome=sent/);
  await row(page, notMet).waitFor({ state: 'detached' });
  // The list refetches on the filter: the old rows may leave before the filtered ones arrive.
  await row(page, sent).waitFor();
  expect(await row(page, sent).count()).toBe(1);
  // The filtered view is a link: opened afresh it shows the same.
  await page.goto(`${stack.url}/ui/runs?eventId=${eventId}&outcome=conditions_not_met`);
  await row(page, notMet).waitFor();
  expect(await page.getByLabel('Outcome').inputValue()).toBe('conditions_not_met');
  expect(await row(page, sent).count()).toBe(0);

  // The chart has a text alternative with today's counts.
  const chart = page.getByRole('img', { name: /Runs per day/ });
  expect(await chart.getAttribute('aria-label')).toMatch(/\d+ in all/);
  await page.getByText('Runs per day as a table').click();
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'UTC' }).format(new Date());
  const todayRow = page.getByRole('row', { name: new RegExp(`^${today}`) });
  expect(await todayRow.getByRole('cell').first().textContent()).not.toBe('0');
  expect(await axeScan(page)).toEqual([]);

  await page.getByLabel('Outcome').selectOption('');
  await row(page, sent).getByRole('link', { name: sent }).click();
  await page.getByRole('heading', { level: 1, name: `Run ${sent}` }).waitFor();
  const timeline = page.getByRole('list').filter({ hasText: 'Rule matched' });
  await timeline.getByText('Rule matched: Notify when done (version 1, no delay)').waitFor();
  await timeline.getByText('Condition job.status equal "Done": fact value "Done" → true').waitFor();
  await timeline.getByText('Action 1 (webhook) attempt 1:').waitFor();
  await timeline.getByText(/Outcome: sent/).waitFor();
  const deliveries = page.getByRole('table').filter({ hasText: 'Provider id' });
  expect(await deliveries.getByRole('row').count()).toBe(3); // header + webhook + email
  const detail = await acct.get(`/executions/${sent}`);
  expect(await page.getByRole('link', { name: 'Open in Temporal Web UI' }).getAttribute('href')).toBe(
    `${TEMPORAL_UI_URL}/namespaces/default/workflows/${sent}/${detail.body.runId}/history`,
  );
  // A closed, sent run: nothing to cancel or retry.
  expect(await page.getByRole('button', { name: 'Cancel' }).count()).toBe(0);
  expect(await page.getByRole('button', { name: 'Retry' }).count()).toBe(0);
  expect(await axeScan(page)).toEqual([]);
}, 90_000);

test('a sleeping run is cancelled from its page (not by a read-only key), and the API reports it cancelled', async () => {
  const eventId = `evt-sleep-${uniq}`;
  expect(
    (await acct.post('/events', { id: eventId, name: sleepEvent, payload: { job: { number: 1 } } })).status,
  ).toBe(202);
  const id = runId('sleeper', eventId);
  await eventually(
    async () =>
      ((await acct.get(`/executions/${id}`)).body.timeline ?? []).some(
        (e: { type: string }) => e.type === 'delay_started',
      ) || undefined,
  );

  const viewer = await open(`/runs/${id}`, readKey);
  await viewer.getByText(/Wait started: 1 day/).waitFor();
  expect(await viewer.getByRole('button', { name: 'Cancel' }).count()).toBe(0);

  const page = await open(`/runs/${id}`);
  await page.getByText(/Wait started: 1 day/).waitFor();
  await page.getByRole('button', { name: 'Cancel', exact: true }).click();
  // Nothing happens before the confirmation.
  expect((await acct.get(`/executions/${id}`)).body.status).toBe('running');
  await page.getByRole('button', { name: 'Yes, cancel the run' }).click();
  await page.getByText(/Outcome: cancelled/).waitFor({ timeout: 20_000 });
  const after = await acct.get(`/executions/${id}`);
  expect({ status: after.body.status, outcome: after.body.outcome }).toEqual({
    status: 'cancelled',
    outcome: 'cancelled',
  });
  // The page follows the run until it closes: then there is nothing left to cancel.
  await page.getByRole('button', { name: 'Cancel', exact: true }).waitFor({ state: 'detached' });
}, 60_000);

test('a failed run is retried from its page: a new run linked to the old one', async () => {
  const eventId = `evt-fail-${uniq}`;
  expect((await acct.post('/events', { id: eventId, name: failEvent, payload: {} })).status).toBe(202);
  const id = runId('rejected', eventId);
  await eventually(
    async () => ((await acct.get(`/executions/${id}`)).body.status === 'failed' ? true : undefined),
    30_000,
  );

  const page = await open(`/runs/${id}`);
  await page.getByText(/Outcome: failed/).waitFor();
  await page
    .getByText(/Error: .*400/)
    .first()
    .waitFor();
  expect(await page.getByRole('button', { name: 'Cancel', exact: true }).count()).toBe(0);
  await page.getByRole('button', { name: 'Retry' }).click();
  await page.getByRole('button', { name: 'Yes, retry' }).click();
  await page.getByRole('heading', { level: 1, name: `Run ${id}~retry-1` }).waitFor();
  await page.getByRole('link', { name: id, exact: true }).first().waitFor();
  expect((await acct.get(`/executions/${id}~retry-1`)).body.retryOf).toBe(id);
}, 60_000);

test('outbox, users and templates show what the API has; a user edit round-trips; errors land on their field', async () => {
  const user = await acct.post('/users', {
    externalId: `crm-${uniq}`,
    name: 'Ana Lima',
    email: 'ana@example.com',
  });
  expect(user.status).toBe(201);
  expect(
    (
      await acct.put('/templates/job-done', {
        name: 'Job done',
        subject: 'Job {{job.number}} is done',
        text: 'Thanks',
      })
    ).status,
  ).toBe(201);
  const outbox = await eventually(
    async () => {
      const r = await acct.get('/outbox?channel=email');
      return r.body.items.length ? r.body.items[0] : undefined;
    },
    30_000,
    'the email in the outbox',
  );

  const page = await open('/outbox');
  await row(page, 'ana@example.com').getByRole('button', { name: /View/ }).click();
  const frame = page.locator('iframe.email-preview');
  // The email's HTML in a sandbox: no scripts (the title stays), an opaque origin.
  expect(await frame.getAttribute('sandbox')).toBe('');
  expect(await frame.getAttribute('srcdoc')).toBe(outbox.html);
  expect(
    await page.frameLocator('iframe.email-preview').getByRole('heading', { name: 'Job 42' }).textContent(),
  ).toBe('Job 42');
  expect(await page.title()).not.toBe('owned');
  await page.getByRole('link', { name: outbox.workflowId }).waitFor();
  expect(await axeScan(page)).toEqual([]);

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Templates' }).click();
  await row(page, 'job-done').getByText('Job {{job.number}} is done').waitFor();
  expect(await axeScan(page)).toEqual([]);

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
  const anaRow = row(page, `crm-${uniq}`);
  await anaRow.getByRole('cell', { name: 'Ana Lima', exact: true }).waitFor();
  expect(await axeScan(page)).toEqual([]);
  await anaRow.getByRole('button', { name: /Edit/ }).click();
  const form = page.getByRole('form', { name: /Edit Ana Lima/ });
  await form.getByLabel('Email').fill('not-an-email');
  await form.getByRole('button', { name: 'Save user' }).click();
  // The API's message, on the field it names.
  const email = form.getByLabel('Email');
  await form.locator('[aria-invalid="true"]').waitFor();
  expect(await email.getAttribute('aria-invalid')).toBe('true');
  const described = await email.getAttribute('aria-describedby');
  expect(await page.locator(`[id="${described}"]`).textContent()).toMatch(/email/i);
  await form.getByLabel('Email').fill('ana.lima@example.com');
  await form.getByLabel('Name').fill('Ana Lima-Souza');
  await form.getByRole('button', { name: 'Save user' }).click();
  await row(page, `crm-${uniq}`).getByRole('cell', { name: 'Ana Lima-Souza', exact: true }).waitFor();
  const saved = await acct.get(`/users/${user.body.id}`);
  expect(saved.body).toMatchObject({
    name: 'Ana Lima-Souza',
    email: 'ana.lima@example.com',
    externalId: `crm-${uniq}`,
  });

  // Read-only keys see the users but no way to change them.
  const viewer = await open('/users', readKey);
  await row(viewer, `crm-${uniq}`).getByRole('cell', { name: 'Ana Lima-Souza', exact: true }).waitFor();
  expect(await viewer.getByRole('button', { name: /Edit|New user|Delete/ }).count()).toBe(0);
}, 90_000);

test('suppressions are added and removed, a key is created (shown once) and works, both pages axe clean', async () => {
  const page = await open('/suppressions');
  await page.getByLabel('Channel').selectOption('email');
  await page.getByLabel('Address').fill('Stop.Me@Example.com');
  await page.getByLabel('Reason').fill('asked by phone');
  await page.getByRole('button', { name: 'Add suppression' }).click();
  await row(page, 'stop.me@example.com').waitFor();
  const listed = await acct.get('/suppressions?channel=email');
  expect(listed.body.items.map((s: { address: string }) => s.address)).toEqual(['stop.me@example.com']);
  expect(await axeScan(page)).toEqual([]);
  await row(page, 'stop.me@example.com').getByRole('button', { name: 'Remove' }).click();
  await page.getByRole('button', { name: 'Yes, remove' }).click();
  await row(page, 'stop.me@example.com').waitFor({ state: 'detached' });
  expect((await acct.get('/suppressions?channel=email')).body.items).toEqual([]);

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Keys' }).click();
  await page.getByLabel('Key name').fill('zapier');
  await page.getByLabel('Role').selectOption('ingest');
  await page.getByRole('button', { name: 'Create key' }).click();
  const secret = await page.getByLabel('New API key').textContent();
  expect(secret).toMatch(/^crm_/);
  expect((await new HttpClient(stack.url, secret!).get('/account')).status).toBe(403); // ingest: events only
  await row(page, 'zapier').getByText('ingest').waitFor();
  expect(await axeScan(page)).toEqual([]);
  await row(page, 'zapier').getByRole('button', { name: 'Revoke' }).click();
  await page.getByRole('button', { name: 'Yes, revoke' }).click();
  await row(page, 'zapier').waitFor({ state: 'detached' });
  expect((await new HttpClient(stack.url, secret!).get('/account')).status).toBe(401);
}, 60_000);
