/**
 * The rules pages in a real browser on the real stack: a rule with a condition and a webhook action
 * made through the UI, an event sent through the API reaching the receiver, a validation error on
 * its field, warnings before saving, the dry run, the Enabled switch agreeing with the API, duplicate
 * and delete, a read-only key, 500 rules virtualised, and axe-core on the list and the editor.
 */
import type { Browser, Page } from 'playwright-core';
import { axeScan, launchBrowser, openApp, type UiSession } from '../helpers/browser';
import { startReceiver } from '../helpers/receiver';
import { RuleService } from '../../src/services/rules';
import { ruleBodySchema } from '../../src/shared/schemas';
import { eventually, startStack, type AccountClient, type Stack } from '../helpers/stack';

let stack: Stack;
let acct: AccountClient;
let browser: Browser;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let ui: UiSession;
let page: Page;

const job = (status: string) => ({ job: { number: 'J-7', status, total: 2500, client: { name: 'Ann' } } });

beforeAll(async () => {
  stack = await startStack();
  acct = await stack.account('UI rules');
  receiver = await startReceiver();
  // The catalogue learns the event type from a first event (no rule yet: nothing runs).
  expect(
    (await acct.post('/events', { id: 'seen-1', name: 'job.status.changed', payload: job('Open') })).status,
  ).toBe(202);
  await eventually(async () =>
    (await acct.get('/event-types/job.status.changed')).status === 200 ? true : undefined,
  );
  browser = await launchBrowser();
  ui = await openApp(browser, stack.url, acct.apiKey);
  page = ui.page;
});
afterAll(async () => {
  await browser?.close();
  await receiver?.close();
  await stack?.stop();
});

const button = (name: string) => page.getByRole('button', { name, exact: true });
const field = (label: string) => page.getByLabel(label, { exact: true });

test('create a rule with a condition and a webhook through the UI; an event reaches the receiver', async () => {
  await page.getByRole('heading', { name: 'Rules', level: 1 }).waitFor();
  expect(await axeScan(page)).toEqual([]);
  await button('New rule').click();
  await page.getByRole('heading', { name: 'New rule', level: 1 }).waitFor();
  await button('Add condition').waitFor(); // the lazy-loaded condition editor
  expect(await axeScan(page)).toEqual([]);

  await field('Name').fill('Thank the client');
  await field('Event name').fill('job.status.changed');
  await button('Add condition').click();
  await page.getByLabel('Fact and path (condition 1)').fill('job.status');
  await page.getByLabel('Value (condition 1)').fill('Done');
  await field('Webhook URL').fill('not a url');
  await button('Save').click();
  // The API's validation error, on the field it names; nothing saved.
  await page.getByText('must be an http(s) URL').waitFor();
  expect(await field('Webhook URL').getAttribute('aria-invalid')).toBe('true');
  expect((await acct.get('/rules')).body.items).toEqual([]);
  // The refused check is the only failed request so far (the later tests expect none).
  expect(ui.errors.filter((e) => e.startsWith('http'))).toEqual(['http 400 POST /rules/test']);
  ui.errors.length = 0;

  await field('Webhook URL').fill(`${receiver.url}/hook`);
  await button('Save').click();
  await page.getByRole('heading', { name: 'Thank the client', level: 1 }).waitFor();
  const [rule] = (await acct.get('/rules')).body.items;
  expect(rule).toMatchObject({
    name: 'Thank the client',
    enabled: true,
    trigger: { eventName: 'job.status.changed' },
    conditions: { all: [{ fact: 'job', path: '$.status', operator: 'equal', value: 'Done' }] },
    actions: [{ type: 'webhook', params: { url: `${receiver.url}/hook`, method: 'POST' } }],
  });
  expect(page.url()).toContain(`/ui/rules/${rule.id}`);
  expect(await axeScan(page)).toEqual([]);

  expect(
    (await acct.post('/events', { id: 'done-1', name: 'job.status.changed', payload: job('Done') })).status,
  ).toBe(202);
  await eventually(() => (receiver.received.length === 1 ? true : undefined), 20_000, 'the webhook');
  expect(receiver.received[0].path).toBe('/hook');
});

test('the dry run: pre-filled from the catalogue, Matched and Not matched with the values read', async () => {
  const sample = field('Sample event');
  const text = await sample.inputValue();
  expect(JSON.parse(text)).toEqual({ name: 'job.status.changed', payload: job('Open') });
  await button('Test').click();
  await page.getByText('Not matched', { exact: true }).waitFor();
  await page.getByRole('cell', { name: '"Open"' }).waitFor(); // the value the condition read

  await sample.fill(JSON.stringify({ name: 'job.status.changed', payload: job('Done') }));
  await button('Test').click();
  await page.getByText('Matched', { exact: true }).waitFor();
  await page.getByText(`POST ${receiver.url}/hook`).waitFor(); // the rendered webhook
  expect(await axeScan(page)).toEqual([]);
});

test('warnings come before saving; "Save anyway" saves', async () => {
  await page.getByLabel('Fact and path (condition 1)').fill('job.statuss');
  await button('Save').click();
  await page.getByText('Check these before saving').waitFor();
  await page.getByText('job.status', { exact: true }).first().waitFor(); // the suggestion
  const id = /\/ui\/rules\/(rule_\w+)/.exec(page.url())![1];
  expect((await acct.get(`/rules/${id}`)).body.conditions.all[0].path).toBe('$.status');
  await button('Save anyway').click();
  await page.getByRole('status').getByText('Saved.').waitFor();
  expect((await acct.get(`/rules/${id}`)).body.conditions.all[0].path).toBe('$.statuss');
});

test('cancel on another event, with conditions on that event in a condition editor of its own', async () => {
  const id = /\/ui\/rules\/(rule_\w+)/.exec(page.url())![1];
  await field('Key (one pending run per value)').fill('job.id');
  await field('Cancel on (event names, comma-separated)').fill('job.cancelled');
  const cancelGroup = page.getByRole('group', { name: 'Cancel on job.cancelled only if (none: always)' });
  await cancelGroup.getByRole('button', { name: 'Add condition', exact: true }).click();
  await page.getByLabel('Fact and path (Cancel on job.cancelled, condition 1)').fill('job.reason');
  await page.getByLabel('Value (Cancel on job.cancelled, condition 1)').fill('client');
  await button('Save').click();
  await button('Save anyway').click(); // the misspelt path of the test before still warns
  await eventually(async () => ((await acct.get(`/rules/${id}`)).body.trigger.cancelOn ? true : undefined));
  expect((await acct.get(`/rules/${id}`)).body.trigger).toEqual({
    eventName: 'job.status.changed',
    key: { fact: 'job', path: '$.id' },
    cancelOn: [
      {
        eventName: 'job.cancelled',
        conditions: { all: [{ fact: 'job', path: '$.reason', operator: 'equal', value: 'client' }] },
      },
    ],
  });
  // The rule's own conditions kept their labels.
  expect(await page.getByLabel('Fact and path (condition 1)').inputValue()).toBe('job.statuss');
  expect(await axeScan(page)).toEqual([]);
});

test('the Enabled switch: the API agrees', async () => {
  const id = /\/ui\/rules\/(rule_\w+)/.exec(page.url())![1];
  const enabled = page.getByRole('checkbox', { name: 'Enabled', exact: true });
  expect(await enabled.isChecked()).toBe(true);
  await enabled.click();
  await eventually(async () => ((await acct.get(`/rules/${id}`)).body.enabled === false ? true : undefined));
  expect(await enabled.isChecked()).toBe(false);
});

test('the list: duplicate, delete with confirmation, and the runs of the last 24 h', async () => {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Rules' }).click();
  await page.getByRole('link', { name: 'Thank the client' }).waitFor();
  expect(await page.getByRole('checkbox', { name: 'Enabled: Thank the client' }).isChecked()).toBe(false);
  await button('Duplicate Thank the client').click();
  await page.getByRole('heading', { name: 'Copy of Thank the client', level: 1 }).waitFor();
  const copyId = /\/ui\/rules\/(rule_\w+)/.exec(page.url())![1];
  expect((await acct.get(`/rules/${copyId}`)).body).toMatchObject({
    enabled: false,
    name: 'Copy of Thank the client',
  });

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Rules' }).click();
  await button('Delete Copy of Thank the client').click();
  const dialog = page.getByRole('dialog', { name: 'Delete this rule?' });
  await dialog.waitFor();
  expect(await axeScan(page)).toEqual([]);
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  expect((await acct.get(`/rules/${copyId}`)).status).toBe(200);
  await button('Delete Copy of Thank the client').click();
  await dialog.getByRole('button', { name: 'Delete rule' }).click();
  await page.getByRole('link', { name: 'Copy of Thank the client' }).waitFor({ state: 'detached' });
  expect((await acct.get(`/rules/${copyId}`)).status).toBe(404);

  // The run of the first test, counted by visibility (eventually consistent): then shown on reload.
  const since = new Date(Date.now() - 3_600_000).toISOString();
  await eventually(
    async () =>
      (await acct.get(`/executions/stats?since=${since}`)).body.total.sent === 1 ? true : undefined,
    20_000,
  );
  await page.reload();
  await page.getByRole('cell', { name: '1 sent' }).waitFor();
  expect(await axeScan(page)).toEqual([]);
  expect(ui.errors).toEqual([]);
});

test('a read key sees the rules but cannot change them', async () => {
  const key = (await acct.post('/keys', { name: 'viewer', role: 'read' })).body.key;
  const viewer = await openApp(browser, stack.url, key);
  try {
    await viewer.page.getByRole('link', { name: 'Thank the client' }).waitFor();
    expect(await viewer.page.getByRole('button', { name: 'New rule' }).count()).toBe(0);
    expect(await viewer.page.getByRole('checkbox', { name: 'Enabled: Thank the client' }).isDisabled()).toBe(
      true,
    );
    await viewer.page.getByRole('link', { name: 'Thank the client' }).click();
    await viewer.page.getByRole('heading', { name: 'Thank the client', level: 1 }).waitFor();
    expect(await viewer.page.getByRole('button', { name: 'Save', exact: true }).count()).toBe(0);
    expect(await viewer.page.getByLabel('Name', { exact: true }).isDisabled()).toBe(true);
  } finally {
    await viewer.context.close();
  }
});

test('500 rules: only the rows in view are rendered, and scrolling reaches the last', async () => {
  const body = (i: number) => ({
    name: `Bulk rule ${String(i).padStart(3, '0')}`,
    enabled: false,
    trigger: { eventName: 'bulk.event' },
    actions: [{ type: 'webhook', params: { url: `${receiver.url}/bulk` } }],
  });
  // Made through the rule service (as the API does, without 499 HTTP round trips): this test is about the list.
  const service = new RuleService(stack.db);
  for (let i = 0; i < 499; i += 50)
    await Promise.all(
      Array.from({ length: Math.min(50, 499 - i) }, (_, j) =>
        service.create(acct.id, ruleBodySchema.parse(body(i + j))),
      ),
    );
  const t0 = Date.now();
  await page.reload();
  await page.getByText('500 rules').waitFor();
  const shown = Date.now() - t0;
  const rows = await page.locator('tbody tr:not([aria-hidden])').count();
  expect(rows).toBeLessThan(60);
  // The list's last rule, in the API's order.
  let last: string | undefined;
  for (let cursor = ''; ;) {
    const res = await acct.get(`/rules?limit=200${cursor ? `&cursor=${cursor}` : ''}`);
    last = res.body.items.at(-1)?.name ?? last;
    if (!res.body.nextCursor) break;
    cursor = res.body.nextCursor;
  }
  await page.getByRole('region', { name: 'Rules list' }).evaluate((el: any) => {
    el.scrollTop = el.scrollHeight;
  });
  await page.getByRole('link', { name: last!, exact: true }).waitFor();
  expect(await page.locator('tbody tr:not([aria-hidden])').count()).toBeLessThan(60);
  console.log(`500 rules: list shown ${shown} ms after reload, ${rows} rows in the DOM`);
}, 120_000);
